//! The anneal tuner.

use archon_plugin_api::{
    plugin_options,
    space::{standard_normal, unit, ChoiceKind, Numeric, Prior, Real},
    Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId, PluginError, Result,
    SearchSpace, Selection, Tuner,
};
use archon_plugin_support::{trial_book::TrialBook, SeededRng};
use serde_json::Value;

/// How many annealed draws to try for an unseen architecture before drawing at random.
const DRAWS: usize = 200;

plugin_options! {
    /// The anneal tuner's options (hyperopt's defaults).
    pub struct AnnealOptions {
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// The mean rank (1: the best) of the trial a proposal starts from.
        pub avg_best_idx: f64 = 2.0,
        /// How fast proposals narrow: `shrinking = 1 / (1 + results · shrink_coef)`.
        pub shrink_coef: f64 = 0.1,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
    }
}

/// Annealing around good trials (options: [`AnnealOptions`]).
pub struct AnnealTuner {
    maximize: bool,
    avg_best_idx: f64,
    shrink_coef: f64,
    rng: SeededRng,
    space: Option<SearchSpace>,
    state: TrialBook,
}

impl AnnealTuner {
    fn space(&self) -> Result<&SearchSpace> {
        self.space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))
    }

    /// The trial a proposal starts from: the k-th best result, k geometric with mean
    /// `avg_best_idx` (capped at the number of results).
    fn good_trial(&mut self) -> Vec<Selection> {
        let mut ranked: Vec<&(Vec<Selection>, f64)> = self.state.history.iter().collect();
        ranked.sort_by(|a, b| {
            let order = a.1.total_cmp(&b.1);
            if self.maximize {
                order.reverse()
            } else {
                order
            }
        });
        // Geometric on 1, 2, … with success probability 1 / avg_best_idx.
        let p: f64 = 1.0 / self.avg_best_idx;
        let mut k = 0;
        if p < 1.0 {
            let u = 1.0 - unit(&mut |n| self.rng.below(n)); // in (0, 1]
            k = ((u.ln() / (1.0 - p).ln()).ceil() as usize).saturating_sub(1);
        }
        ranked[k.min(ranked.len() - 1)].0.clone()
    }

    /// An annealed neighbour of `good` (`shrinking` in (0, 1]).
    fn neighbour(
        &mut self,
        space: &SearchSpace,
        good: &[Selection],
        shrinking: f64,
    ) -> Vec<Selection> {
        let mut child =
            archon_plugin_support::evolution::mutate(space, good, shrinking, &mut self.rng);
        for (i, choice) in space.choices().iter().enumerate() {
            if let ChoiceKind::Numeric(numeric) = choice.kind() {
                let value = match good[i] {
                    Selection::Number(Real(x)) => anneal(numeric, x, shrinking, &mut self.rng),
                    _ => numeric.sample(&mut |n| self.rng.below(n)),
                };
                child[i] = Selection::Number(Real(value));
            }
        }
        space.canonical(child)
    }
}

/// A value drawn near `value`: a window `shrinking` times the prior's range wide (slid
/// inside the bounds) for uniform types, N(value, `shrinking`·σ) for normal ones; in
/// the prior's space (logarithms for log types), then rounded and clipped as NNI does.
fn anneal(numeric: &Numeric, value: f64, shrinking: f64, rng: &mut SeededRng) -> f64 {
    let x = numeric.draw_of_value(value);
    let draw = match numeric.prior() {
        Prior::Uniform { low, high } => {
            let half = 0.5 * (high - low) * shrinking;
            let middle = x.clamp(low + half, high - half);
            middle - half + 2.0 * half * unit(&mut |n| rng.below(n))
        }
        Prior::Normal { sigma, .. } => {
            x + sigma * shrinking * standard_normal(&mut |n| rng.below(n))
        }
    };
    numeric.value_of_draw(draw)
}

impl Tuner for AnnealTuner {
    /// Every type: numbers are annealed around good values, categorical choices
    /// redrawn with a shrinking probability.
    const SUPPORTED_TYPES: &'static [&'static str] = &archon_plugin_api::space::ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = AnnealOptions::from_options(options, "anneal")?;
        if !(options.avg_best_idx.is_finite() && options.avg_best_idx >= 1.0) {
            return Err(PluginError::invalid_input(format!(
                "options: \"avg_best_idx\" is the mean rank of the trial a proposal starts from: at least 1, found {}",
                options.avg_best_idx
            )));
        }
        if !(options.shrink_coef.is_finite() && options.shrink_coef >= 0.0) {
            return Err(PluginError::invalid_input(format!(
                "options: \"shrink_coef\" must be 0 or more, found {}",
                options.shrink_coef
            )));
        }
        Ok(AnnealTuner {
            maximize: options.optimize_mode == OptimizeMode::Maximize,
            avg_best_idx: options.avg_best_idx,
            shrink_coef: options.shrink_coef,
            rng: SeededRng::from_seed(options.seed),
            space: None,
            state: TrialBook::default(),
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.space = Some(space.clone());
        self.state = TrialBook::default();
        Ok(())
    }

    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>> {
        let space = self.space()?.clone();
        if self.state.exhausted(&space) {
            return Ok(None);
        }
        let mut child = None;
        if !self.state.history.is_empty() {
            let shrinking = 1.0 / (1.0 + self.state.history.len() as f64 * self.shrink_coef);
            for _ in 0..DRAWS {
                let good = self.good_trial();
                let candidate = self.neighbour(&space, &good, shrinking);
                if !self.state.seen.contains(&candidate) {
                    child = Some(candidate);
                    break;
                }
            }
        }
        self.state
            .propose_or_random(&space, id, child, &mut self.rng)
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        self.state.receive(id, parameters, metric);
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, _success: bool) -> Result<()> {
        self.state.end(id);
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        self.state.save(&self.rng)
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        (self.rng, self.state) = TrialBook::load("anneal-tuner", self.space()?, state)?;
        Ok(())
    }
}
