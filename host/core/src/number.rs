//! Numbers as the CLI prints metrics: four decimals where that reads well, scientific
//! notation for huge or tiny magnitudes (a metric of 1e308 is 1.0000e308, not 309
//! digits).

/// `v` with four significant decimals, or in scientific notation outside
/// [1e-4, 1e6).
pub fn metric(v: f64) -> String {
    let a = v.abs();
    if v.is_finite() && a != 0.0 && !(1e-4..1e6).contains(&a) {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_and_tiny_metrics_are_short() {
        assert_eq!(metric(0.91234), "0.9123");
        assert_eq!(metric(1e308), "1.0000e308");
        assert_eq!(metric(-3e-7), "-3.0000e-7");
        assert_eq!(metric(0.0), "0.0000");
        assert_eq!(metric(f64::NAN), "NaN");
        assert_eq!(metric(12345.678), "12345.6780");
    }
}
