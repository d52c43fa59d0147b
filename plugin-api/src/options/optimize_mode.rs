//! `optimize_mode`, the option by which a tuner knows which way a metric is better
//! (NNI's name and values).

crate::option_enum! {
    /// Whether a larger or a smaller metric is better.
    pub enum OptimizeMode {
        /// Larger is better (accuracy).
        Maximize = "maximize",
        /// Smaller is better (loss, error, latency).
        Minimize = "minimize",
    }
}

impl OptimizeMode {
    /// Whether `a` is better than `b` in this mode.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            OptimizeMode::Maximize => a > b,
            OptimizeMode::Minimize => a < b,
        }
    }
}
