//! Hard limits on what a search may export: parameters, multiply-adds and latency.
//! The host passes the experiment's limits in [`SearchInfo`](super::SearchInfo); a
//! trainer keeps its export within them (judged by the host's [`CostTable`]
//! estimate), and the host checks the exported network itself before it accepts it.

use super::{CandidateCost, CostTable};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// At most this many parameters / multiply-adds per example / milliseconds per image
/// (`None`: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// At most this many parameters in the network: one-shot exports are kept within
    /// it and checked on the built network; a tuner's proposal over it never runs.
    #[serde(default)]
    pub max_params: Option<f64>,
    /// At most this many multiply-accumulates per example (as `max_params`).
    #[serde(default)]
    pub max_flops: Option<f64>,
    /// At most this many milliseconds per image (batch of one, median of timed
    /// forward passes on the search device; the host's check allows 10 % timing
    /// noise).
    #[serde(default)]
    pub max_latency_ms: Option<f64>,
}

/// One limit a cost breaks: its key, the cost and the limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Excess {
    /// `max_params`, `max_flops` or `max_latency_ms`.
    pub key: &'static str,
    /// The cost.
    pub cost: f64,
    /// The limit.
    pub limit: f64,
}

impl std::fmt::Display for Excess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} > {} {}",
            self.what(),
            self.cost,
            self.key,
            self.limit
        )
    }
}

impl Excess {
    fn what(&self) -> &'static str {
        match self.key {
            "max_params" => "parameters",
            "max_flops" => "multiply-adds",
            _ => "latency ms",
        }
    }
}

impl Limits {
    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.max_params.is_none() && self.max_flops.is_none() && self.max_latency_ms.is_none()
    }

    /// Each set limit with its key and the matching cost of `c`.
    pub fn pairs(&self, c: &CandidateCost) -> Vec<Excess> {
        [
            ("max_params", self.max_params, c.params as f64),
            ("max_flops", self.max_flops, c.flops as f64),
            ("max_latency_ms", self.max_latency_ms, c.latency_ms),
        ]
        .into_iter()
        .filter_map(|(key, limit, cost)| limit.map(|limit| Excess { key, cost, limit }))
        .collect()
    }

    /// The limits `c` breaks (empty: it fits).
    pub fn excesses(&self, c: &CandidateCost) -> Vec<Excess> {
        self.pairs(c)
            .into_iter()
            .filter(|e| e.cost > e.limit)
            .collect()
    }

    /// Whether `c` fits every limit.
    pub fn admits(&self, c: &CandidateCost) -> bool {
        self.excesses(c).is_empty()
    }

    /// Whether an architecture fits, by `costs`' estimate.
    pub fn admits_estimate(&self, costs: &CostTable, architecture: &Value) -> bool {
        self.admits(&costs.estimate(architecture))
    }

    /// How far `c` is over the limits: the sum of each broken limit's relative excess
    /// (0 when it fits). Moves that lower it bring an architecture towards the limits.
    pub fn overshoot(&self, c: &CandidateCost) -> f64 {
        self.excesses(c)
            .iter()
            .map(|e| (e.cost - e.limit) / e.limit.abs().max(f64::MIN_POSITIVE))
            .sum()
    }

    /// The tighter of two sets of limits, limit by limit.
    pub fn tightest(&self, other: &Limits) -> Limits {
        let min = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Limits {
            max_params: min(self.max_params, other.max_params),
            max_flops: min(self.max_flops, other.max_flops),
            max_latency_ms: min(self.max_latency_ms, other.max_latency_ms),
        }
    }

    /// The limits as `key value` text, e.g. `max_params 40000, max_flops 3e6`.
    pub fn describe(&self) -> String {
        [
            ("max_params", self.max_params),
            ("max_flops", self.max_flops),
            ("max_latency_ms", self.max_latency_ms),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(params: i64, flops: i64, latency_ms: f64) -> CandidateCost {
        CandidateCost {
            params,
            flops,
            latency_ms,
        }
    }

    #[test]
    fn a_cost_fits_only_when_every_set_limit_holds() {
        let limits = Limits {
            max_params: Some(100.0),
            max_flops: None,
            max_latency_ms: Some(2.0),
        };
        assert!(limits.admits(&cost(100, 1_000_000, 2.0)));
        let over = limits.excesses(&cost(150, 0, 3.0));
        assert_eq!(
            over.iter().map(|e| e.key).collect::<Vec<_>>(),
            ["max_params", "max_latency_ms"]
        );
        assert!((limits.overshoot(&cost(150, 0, 3.0)) - 1.0).abs() < 1e-12);
        assert_eq!(over[0].to_string(), "parameters 150 > max_params 100");
        assert!(Limits::default().admits(&cost(i64::MAX, i64::MAX, 1e9)));
    }

    #[test]
    fn the_tightest_of_two_takes_each_smaller_limit() {
        let a = Limits {
            max_params: Some(10.0),
            max_flops: Some(5.0),
            max_latency_ms: None,
        };
        let b = Limits {
            max_params: Some(20.0),
            max_flops: None,
            max_latency_ms: Some(1.0),
        };
        assert_eq!(
            a.tightest(&b),
            Limits {
                max_params: Some(10.0),
                max_flops: Some(5.0),
                max_latency_ms: Some(1.0)
            }
        );
        assert_eq!(a.describe(), "max_params 10, max_flops 5");
    }
}
