//! Random search at equal wall time, simulated on a ground-truth table: draw N
//! distinct architectures of the table (N = what one search's time trains at the
//! table's budget), keep the one with the best validation accuracy of one training
//! seed (what random search sees), and score it by its mean test accuracy's
//! percentile. Repeated many times with a seeded generator.

use crate::ground_truth::table::Entry;
use archon_core::stats::{self, Draw};
use serde::Serialize;

/// What random search at equal time achieves.
#[derive(Debug, Clone, Serialize)]
pub struct RandomBaseline {
    /// Architectures random search trains in the time.
    pub trials: usize,
    /// Mean percentile of its pick.
    pub percentile_mean: f64,
    /// Standard deviation of that percentile over repetitions.
    pub percentile_std: f64,
    /// Mean test accuracy of its pick.
    pub test_mean: f64,
}

/// Random search with `trials` trainings on `entries`, repeated `repeats` times.
/// Each trial's training is one seed's (the first seed each architecture has).
pub fn random_search(
    entries: &[Entry],
    trials: usize,
    repeats: usize,
    seed: u64,
) -> RandomBaseline {
    let tests: Vec<f64> = entries.iter().map(Entry::test).collect();
    let seen = first_seed_validation(entries);
    let n = entries.len();
    let trials = trials.clamp(1, n.max(1));
    let mut draw = Draw(seed);
    let mut order: Vec<usize> = (0..n).collect();
    let (mut percentiles, mut picks) = (Vec::new(), Vec::new());
    for _ in 0..repeats.max(1) {
        let best = pick(&mut order, &seen, trials, &mut draw);
        percentiles.push(stats::percentile(tests[best], &tests));
        picks.push(tests[best]);
    }
    RandomBaseline {
        trials,
        percentile_mean: stats::mean(&percentiles),
        percentile_std: stats::std_dev(&percentiles),
        test_mean: stats::mean(&picks),
    }
}

/// One random search with `trials` trainings on `entries` (seeded): the index of
/// the architecture it picks (`entries` must not be empty).
pub fn random_pick(entries: &[Entry], trials: usize, seed: u64) -> usize {
    let seen = first_seed_validation(entries);
    let mut order: Vec<usize> = (0..entries.len()).collect();
    pick(
        &mut order,
        &seen,
        trials.clamp(1, entries.len().max(1)),
        &mut Draw(seed),
    )
}

/// What random search sees of each entry: the validation accuracy of its first seed.
fn first_seed_validation(entries: &[Entry]) -> Vec<f64> {
    entries
        .iter()
        .map(|e| e.by_seed.values().next().map_or(0.0, |v| v.0))
        .collect()
}

/// Draws `trials` of `order` (a partial Fisher–Yates shuffle: the first `trials`
/// become a uniform sample) and returns the one `seen` rates best.
fn pick(order: &mut [usize], seen: &[f64], trials: usize, draw: &mut Draw) -> usize {
    let n = order.len();
    for i in 0..trials {
        let j = i + draw.below((n - i) as u128) as usize;
        order.swap(i, j);
    }
    order[..trials]
        .iter()
        .copied()
        .max_by(|&a, &b| seen[a].total_cmp(&seen[b]))
        .expect("at least one trial")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn entry(valid: f64, test: f64) -> Entry {
        Entry {
            key: format!("{valid}/{test}"),
            arch: serde_json::Value::Null,
            params: 0,
            flops: 0,
            param_free: false,
            by_seed: BTreeMap::from([(0, (valid, test))]),
            seconds: 1.0,
        }
    }

    #[test]
    fn more_trials_find_better_architectures_and_all_trials_find_the_best() {
        // Validation ranks like test: random search's pick improves with its budget.
        let entries: Vec<Entry> = (0..100).map(|i| entry(i as f64, i as f64)).collect();
        let one = random_search(&entries, 1, 2000, 7);
        let ten = random_search(&entries, 10, 2000, 7);
        assert!((one.percentile_mean - 50.0).abs() < 3.0, "{one:?}");
        // The best of 10 uniform draws: expected rank 10/11 of the way up.
        assert!((ten.percentile_mean - 90.4).abs() < 2.0, "{ten:?}");
        let all = random_search(&entries, 500, 3, 7);
        assert_eq!((all.trials, all.percentile_mean), (100, 99.5));
        // Random search picks by validation: when validation misleads, so is it.
        let inverted: Vec<Entry> = (0..100).map(|i| entry(-(i as f64), i as f64)).collect();
        assert_eq!(random_search(&inverted, 100, 3, 7).percentile_mean, 0.5);
        // One search: all trials find the best; one trial is any architecture.
        assert_eq!(random_pick(&entries, 100, 3), 99);
        let singles: std::collections::HashSet<usize> =
            (0..20).map(|s| random_pick(&entries, 1, s)).collect();
        assert!(singles.len() > 5, "{singles:?}");
    }
}
