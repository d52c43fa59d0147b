//! What an experiment optimises: a direction, and with several objectives each
//! metric field with its own.

use serde::{Deserialize, Serialize};

/// Which way the metric is optimised (explicit, never guessed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Larger is better (accuracy).
    Maximize,
    /// Smaller is better (loss, latency).
    Minimize,
}

impl Direction {
    /// Whether `a` is better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Maximize => a > b,
            Direction::Minimize => a < b,
        }
    }

    /// NNI's `optimize_mode` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Maximize => "maximize",
            Direction::Minimize => "minimize",
        }
    }
}

/// One objective: a field of the trials' final metric (`default` is the trial's value)
/// and its direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// The metric field (`default`, `params`, `latency_ms`, a table column, …).
    pub metric: String,
    /// Which way is better.
    pub direction: Direction,
}
