//! `[tuner.prefilter]` of an experiment config: which zero-cost proxy ranks how many
//! drawn architectures before the tuner proposes (the ranking itself is in
//! `prefilter`).

use archon_spaces::proxies::Proxy;
use serde::{Deserialize, Serialize};

/// `[tuner.prefilter]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrefilterSection {
    /// The proxy pre-filter (built-in spaces): before the tuner proposes anything,
    /// `sample` distinct architectures drawn with the experiment's seed are scored
    /// with this zero-cost proxy (`archon score`'s: params, flops, grad_norm, snip,
    /// synflow, jacob_cov, naswot, fisher; higher is better; one minibatch of the
    /// trial's data, no training) and the best `keep` run as the first trials; their
    /// results reach the tuner like any other. The ranking is kept in the store, so a
    /// resumed experiment goes on with the same list.
    pub proxy: String,
    /// Architectures drawn and scored (distinct; at most the space's size).
    #[serde(default = "default_sample")]
    pub sample: usize,
    /// The best-scored ones run first.
    #[serde(default = "default_keep")]
    pub keep: usize,
    /// Examples in the scoring minibatch.
    #[serde(default = "default_batch")]
    pub batch: i64,
}

fn default_sample() -> usize {
    1000
}
fn default_keep() -> usize {
    10
}
fn default_batch() -> i64 {
    64
}

impl PrefilterSection {
    /// Checks the section; `builtin_space` says whether the experiment's space is a
    /// built-in one (the pre-filter builds its networks). Errors are (key, what).
    pub fn check(&self, builtin_space: bool) -> std::result::Result<(), (String, String)> {
        let bad = |key: &str, what: String| Err((format!("tuner.prefilter.{key}"), what));
        if let Err(e) = Proxy::from_name(&self.proxy) {
            return bad("proxy", e.to_string());
        }
        if !builtin_space {
            return bad(
                "proxy",
                "the pre-filter scores networks the host builds: it needs space.builtin".into(),
            );
        }
        if self.keep == 0 || self.sample < self.keep {
            return bad(
                "keep",
                format!(
                    "{} with sample {}: need 1 ≤ keep ≤ sample",
                    self.keep, self.sample
                ),
            );
        }
        if self.batch < 2 {
            return bad(
                "batch",
                format!("{}: the minibatch needs at least 2 examples", self.batch),
            );
        }
        Ok(())
    }
}
