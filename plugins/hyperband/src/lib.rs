//! `hyperband` — Hyperband (Li et al., JMLR 2018): successive halving run in brackets
//! that trade the number of architectures against the budget each starts with.
//!
//! The schedule is [`archon_plugin_support::brackets`]'s; brackets start from random
//! architectures. The budget reaches the trial as `ARCHON_BUDGET`.

use archon_plugin_api::{plugin_options, Result, SearchSpace, Selection};
use archon_plugin_support::{
    brackets::{BracketOptions, BracketSampler, BracketTuner, RandomSampler},
    fidelity::Runs,
    SeededRng,
};

#[cfg(test)]
mod tests;

plugin_options! {
    /// Hyperband's options.
    pub struct HyperbandOptions {
        #[flatten]
        pub schedule: BracketOptions = BracketOptions::default(),
    }
}

/// Brackets start from random architectures.
pub struct Random;

impl BracketSampler for Random {
    const NAME: &'static str = "hyperband";
    type Options = HyperbandOptions;
    fn shared(options: &HyperbandOptions) -> &BracketOptions {
        &options.schedule
    }
    fn new(_options: &HyperbandOptions) -> Result<Self> {
        Ok(Random)
    }
    fn sample(
        &mut self,
        space: &SearchSpace,
        runs: &Runs,
        _ladder: &[f64],
        rng: &mut SeededRng,
        n: usize,
    ) -> Vec<Vec<Selection>> {
        RandomSampler::draw(space, runs, rng, n)
    }
}

/// Hyperband (options: [`HyperbandOptions`]).
pub type HyperbandTuner = BracketTuner<Random>;

archon_plugin_api::export_plugin! {
    name: "hyperband",
    version: env!("CARGO_PKG_VERSION"),
    description: "Hyperband: brackets of successive halving over a ladder of budgets (multi-fidelity), seedable",
    options: HyperbandOptions,
    tuner: HyperbandTuner,
}
