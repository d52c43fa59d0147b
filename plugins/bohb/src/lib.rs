//! `bohb` — BOHB (Falkner et al., ICML 2018): Hyperband's brackets, with the
//! architectures that start a bracket proposed by a model of the results so far
//! instead of at random.
//!
//! The model is fit on the largest budget that has at least `min_points_in_model`
//! results (default: the number of parameters + 1): the best `top_n_percent` (15 %)
//! are "good", the rest "bad", and of `num_samples` (64) draws from the good density the
//! one with the highest good/bad density ratio is proposed; a `random_fraction` (1/3)
//! of proposals stay random, and every proposal is random until some budget has
//! enough results (NNI's defaults). BOHB's densities are kernel density estimates; archon
//! uses the same Parzen estimator as its `tpe` tuner (per parameter, categorical and
//! numeric, truncated to bounds), so the only difference from BOHB's paper is the
//! kernel bandwidth rule. The schedule is [`archon_plugin_support::brackets`]'s.

use archon_plugin_api::{plugin_options, space::unit, PluginError, Result, SearchSpace, Selection};
use archon_plugin_support::{
    brackets::{BracketOptions, BracketSampler, BracketTuner, RandomSampler},
    fidelity::Runs,
    parzen::{Args, Good},
    tpe_model::SpaceModel,
    SeededRng,
};

#[cfg(test)]
mod tests;

plugin_options! {
    /// BOHB's options (NNI's names and defaults, next to the schedule's).
    pub struct BohbOptions {
        /// Results a budget needs before the model is fit on it (default: the number
        /// of parameters + 1).
        pub min_points_in_model: Option<u64> = None,
        /// The percentage of a budget's results that count as good.
        pub top_n_percent: f64 = 15.0,
        /// Draws from the good density per proposal.
        pub num_samples: usize = 64,
        /// The share of proposals that stay random.
        pub random_fraction: f64 = 0.33,
        #[flatten]
        pub schedule: BracketOptions = BracketOptions::default(),
    }
}

/// Brackets start from the model's proposals.
pub struct Model {
    options: BohbOptions,
}

impl Model {
    /// The results of the largest budget that has enough of them, as (architecture, loss).
    fn history(
        &self,
        space: &SearchSpace,
        runs: &Runs,
        ladder: &[f64],
    ) -> Option<Vec<(Vec<Selection>, f64)>> {
        let needed = self
            .options
            .min_points_in_model
            .map_or(space.choices().len() + 1, |n| n as usize);
        (0..ladder.len()).rev().find_map(|rung| {
            let done: Vec<(Vec<Selection>, f64)> = runs
                .runs
                .values()
                .filter(|r| r.rung == rung)
                .filter_map(|r| r.loss.map(|l| (r.selections.clone(), l)))
                .collect();
            (done.len() >= needed.max(2)).then_some(done)
        })
    }
}

impl BracketSampler for Model {
    const NAME: &'static str = "bohb";
    type Options = BohbOptions;
    fn shared(options: &BohbOptions) -> &BracketOptions {
        &options.schedule
    }
    fn new(options: &BohbOptions) -> Result<Self> {
        if !(options.top_n_percent > 0.0 && options.top_n_percent < 100.0) {
            return Err(PluginError::invalid_input(format!(
                "bohb: top_n_percent must be between 0 and 100, found {}",
                options.top_n_percent
            )));
        }
        if !(0.0..=1.0).contains(&options.random_fraction) || options.num_samples == 0 {
            return Err(PluginError::invalid_input(
                "bohb: random_fraction must be in [0, 1] and num_samples at least 1",
            ));
        }
        Ok(Model {
            options: options.clone(),
        })
    }
    fn sample(
        &mut self,
        space: &SearchSpace,
        runs: &Runs,
        ladder: &[f64],
        rng: &mut SeededRng,
        n: usize,
    ) -> Vec<Vec<Selection>> {
        let history = self.history(space, runs, ladder);
        let model = SpaceModel::new(space);
        let args = Args {
            n_ei_candidates: self.options.num_samples,
            linear_forgetting: usize::MAX,
            prior_weight: 1.0,
            good: Good::Fraction(self.options.top_n_percent / 100.0),
        };
        let mut seen = runs.proposed.clone();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let random = unit(&mut |k| rng.below(k)) < self.options.random_fraction;
            let proposal = match (&history, random) {
                (Some(h), false) => Some(model.propose(space, h, &args, &mut |k| rng.below(k)))
                    .filter(|p| !seen.contains(p)),
                _ => None,
            };
            let proposal = match proposal {
                Some(p) => p,
                None => match RandomSampler::draw_unseen(space, &seen, rng) {
                    Some(p) => p,
                    None => break,
                },
            };
            seen.insert(proposal.clone());
            out.push(proposal);
        }
        out
    }
}

/// BOHB (options: [`BohbOptions`]).
pub type BohbTuner = BracketTuner<Model>;

archon_plugin_api::export_plugin! {
    name: "bohb",
    version: env!("CARGO_PKG_VERSION"),
    description: "BOHB: Hyperband's brackets started from a Parzen-estimator model of the results (multi-fidelity), seedable",
    options: BohbOptions,
    tuner: BohbTuner,
}
