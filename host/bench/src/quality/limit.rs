//! A limit given to `bench quality` (`--max-params`, `--max-flops`): a number, or
//! `median` for the table's median, so that the largest architecture is not
//! automatically inside it.

use crate::ground_truth::table::Entry;
use archon_core::stats;
use archon_plugin_api::one_shot::{CandidateCost, Limits};

/// A limit as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LimitArg {
    /// This value.
    Value(f64),
    /// The table's median.
    Median,
}

impl std::str::FromStr for LimitArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "median" {
            return Ok(LimitArg::Median);
        }
        match s.parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => Ok(LimitArg::Value(v)),
            _ => Err(format!(
                "{s:?} is neither a number > 0 nor `median` (the table's median)"
            )),
        }
    }
}

impl LimitArg {
    fn resolve(self, values: impl Iterator<Item = f64>) -> f64 {
        match self {
            LimitArg::Value(v) => v,
            LimitArg::Median => stats::median(&values.collect::<Vec<_>>()),
        }
    }
}

/// `limits` with the command line's parameter and multiply-add limits (medians taken
/// over `entries`).
pub fn resolve(
    limits: Limits,
    (params, flops): (Option<LimitArg>, Option<LimitArg>),
    entries: &[Entry],
) -> Limits {
    Limits {
        max_params: params
            .map(|p| p.resolve(entries.iter().map(|e| e.params as f64)))
            .or(limits.max_params),
        max_flops: flops
            .map(|f| f.resolve(entries.iter().map(|e| e.flops as f64)))
            .or(limits.max_flops),
        ..limits
    }
}

/// The entries whose table costs fit the parameter and multiply-add limits (a table
/// has no latency: `max_latency_ms` is not judged here).
pub fn within(entries: &[Entry], limits: &Limits) -> Vec<Entry> {
    entries
        .iter()
        .filter(|e| fits(e, limits))
        .cloned()
        .collect()
}

/// Whether an entry's table costs fit the parameter and multiply-add limits.
pub fn fits(e: &Entry, limits: &Limits) -> bool {
    let table_costs = CandidateCost {
        params: e.params as i64,
        flops: e.flops as i64,
        latency_ms: 0.0,
    };
    Limits {
        max_latency_ms: None,
        ..*limits
    }
    .admits(&table_costs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_a_positive_number_or_the_median() {
        assert_eq!("median".parse::<LimitArg>(), Ok(LimitArg::Median));
        assert_eq!("2.5e4".parse::<LimitArg>(), Ok(LimitArg::Value(25_000.0)));
        for bad in ["0", "-3", "nan", "inf", "big"] {
            let e = bad.parse::<LimitArg>().unwrap_err();
            assert!(e.contains("median"), "{e}");
        }
    }

    #[test]
    fn the_median_limit_keeps_the_smaller_half_of_the_table() {
        let entry = |params: u64| Entry {
            key: params.to_string(),
            arch: serde_json::Value::Null,
            params,
            flops: params * 10,
            param_free: false,
            by_seed: Default::default(),
            seconds: 1.0,
        };
        let entries: Vec<Entry> = [10, 20, 30, 40, 50].into_iter().map(entry).collect();
        let limits = resolve(Limits::default(), (Some(LimitArg::Median), None), &entries);
        assert_eq!(limits.max_params, Some(30.0));
        let kept: Vec<u64> = within(&entries, &limits).iter().map(|e| e.params).collect();
        assert_eq!(kept, [10, 20, 30]);
        // A config's limit stays where the command line gives none.
        let config = Limits {
            max_flops: Some(250.0),
            ..Limits::default()
        };
        let both = resolve(config, (Some(LimitArg::Value(45.0)), None), &entries);
        let kept: Vec<u64> = within(&entries, &both).iter().map(|e| e.params).collect();
        assert_eq!(kept, [10, 20]);
    }
}
