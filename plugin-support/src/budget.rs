//! Defaults sized to the experiment's trial budget. The host gives a tuner that declares
//! a `max_trials` option the experiment's `max_trials`; its warm-up counts (random
//! trials before a model, a population) are then a share of that budget within fixed
//! bounds, so that a short run is not random search throughout and a long one is not
//! cut short of exploration. At 100 trials every rule gives the default measured on the
//! repository's ground-truth table.

/// `share` of `max_trials`, rounded, clamped to `[low, high]`; `unknown` without a
/// budget (a tuner driven outside an experiment).
pub fn sized_to_budget(
    max_trials: Option<u64>,
    share: f64,
    low: usize,
    high: usize,
    unknown: usize,
) -> usize {
    match max_trials {
        Some(n) => ((n as f64 * share).round() as usize).clamp(low, high),
        None => unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_of_the_budget_within_bounds() {
        assert_eq!(sized_to_budget(Some(100), 0.2, 10, 100, 20), 20);
        assert_eq!(sized_to_budget(Some(20), 0.2, 10, 100, 20), 10);
        assert_eq!(sized_to_budget(Some(5000), 0.2, 10, 100, 20), 100);
        assert_eq!(sized_to_budget(Some(u64::MAX), 0.2, 10, 100, 20), 100);
        assert_eq!(sized_to_budget(None, 0.2, 10, 100, 20), 20);
    }
}
