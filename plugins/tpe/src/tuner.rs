//! The TPE tuner: options, per-parameter models, proposals, and the saved state.

use archon_plugin_api::{
    option_enum, plugin_options, space::ALL_TYPES, Architecture, Metric, OptimizeMode, OptionSet,
    Options, ParameterId, PluginError, Result, SearchSpace, Selection, Tuner,
};
use archon_plugin_support::{
    bad_state,
    budget::sized_to_budget,
    parzen::{Args, Good},
    tpe_model::SpaceModel,
    SeededRng,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

option_enum! {
    /// What TPE assumes of trials still running when it proposes the next one
    /// (Bergstra et al. §6.1), so that parallel proposals differ.
    pub enum ConstantLiar {
        /// They score as well as the best so far (NNI's default; converges faster).
        Best = "best",
        /// As badly as the worst so far (explores more).
        Worst = "worst",
        /// The mean so far.
        Mean = "mean",
        /// No lie: running trials are ignored.
        None = "none",
    }
}

plugin_options! {
    /// TPE's options (NNI's `tpe_args`, flattened; NNI's defaults).
    pub struct TpeOptions {
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
        /// Trials proposed at random before the model is used (default: a fifth of
        /// `max_trials`, 5 to 20; NNI's 20 without a budget).
        pub n_startup_jobs: Option<usize> = None,
        /// The experiment's trial budget (the host sets it from `max_trials`).
        pub max_trials: Option<u64> = None,
        /// Candidates drawn from the good trials' model per proposal; the one with the
        /// highest l(x)/g(x) is proposed.
        pub n_ei_candidates: usize = 24,
        /// Observations after which older ones weigh less (linearly).
        pub linear_forgetting: usize = 25,
        /// Weight of the search space itself as one observation.
        pub prior_weight: f64 = 1.0,
        /// Share of trials counted as good: ⌈gamma·√N⌉ of N (at most linear_forgetting).
        pub gamma: f64 = 0.25,
        /// What running trials are assumed to score: "best", "worst", "mean" or "none".
        pub constant_liar: ConstantLiar = ConstantLiar::Best,
    }
}

/// TPE over every parameter type (options: [`TpeOptions`]).
pub struct TpeTuner {
    options: TpeOptions,
    /// Random trials before the model (`n_startup_jobs`, or sized to the budget).
    startup: usize,
    space: Option<(SearchSpace, SpaceModel)>,
    state: State,
}

/// What `save_state` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    rng: SeededRng,
    /// Finished trials in the order their results came: selections and loss (smaller is
    /// better, whatever the optimize mode).
    history: Vec<(Vec<Selection>, f64)>,
    /// Proposed, not yet finished.
    running: BTreeMap<u64, Vec<Selection>>,
    /// Everything proposed, so that nothing is proposed twice.
    proposed: HashSet<Vec<Selection>>,
}

impl TpeTuner {
    fn args(&self) -> Args {
        Args {
            n_ei_candidates: self.options.n_ei_candidates,
            linear_forgetting: self.options.linear_forgetting,
            prior_weight: self.options.prior_weight,
            good: Good::Gamma(self.options.gamma),
        }
    }

    /// The history with running trials given the constant liar's loss.
    fn history_with_lies(&self) -> Vec<(Vec<Selection>, f64)> {
        let mut history = self.state.history.clone();
        let losses: Vec<f64> = history.iter().map(|h| h.1).collect();
        let lie = match self.options.constant_liar {
            ConstantLiar::None => return history,
            _ if losses.is_empty() => 0.0,
            ConstantLiar::Best => losses.iter().copied().fold(f64::INFINITY, f64::min),
            ConstantLiar::Worst => losses.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ConstantLiar::Mean => losses.iter().sum::<f64>() / losses.len() as f64,
        };
        history.extend(self.state.running.values().map(|s| (s.clone(), lie)));
        history
    }

    /// One proposal: each parameter from its own model; `None` when a finite space
    /// has nothing left to propose.
    fn propose(&mut self) -> Result<Option<Vec<Selection>>> {
        let history = self.history_with_lies();
        let args = self.args();
        let warm = history.len() >= self.startup;
        let (space, model) = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        let rng = &mut self.state.rng;
        let mut uniform = |n: u128| rng.below(n);
        let out = if warm {
            model.propose(space, &history, &args, &mut uniform)
        } else {
            space.sample(&mut uniform)
        };
        if self.state.proposed.contains(&out) {
            // Proposed before: an unseen one at random, or none left in a finite space.
            let rng = &mut self.state.rng;
            return Ok(space.sample_unseen(&self.state.proposed, &mut |n| rng.below(n)));
        }
        Ok(Some(out))
    }
}

impl Tuner for TpeTuner {
    /// Every type: categorical ones by smoothed counts, numeric ones by Parzen windows.
    const SUPPORTED_TYPES: &'static [&'static str] = &ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = TpeOptions::from_options(options, "tpe")?;
        if !(options.gamma > 0.0 && options.gamma <= 1.0) {
            return Err(PluginError::invalid_input(format!(
                "tpe: gamma must be in (0, 1], found {}",
                options.gamma
            )));
        }
        if options.prior_weight < 0.0 || !options.prior_weight.is_finite() {
            return Err(PluginError::invalid_input(format!(
                "tpe: prior_weight must be a number ≥ 0, found {}",
                options.prior_weight
            )));
        }
        if options.n_ei_candidates == 0 || options.linear_forgetting == 0 {
            return Err(PluginError::invalid_input(
                "tpe: n_ei_candidates and linear_forgetting must be at least 1",
            ));
        }
        Ok(TpeTuner {
            startup: options
                .n_startup_jobs
                .unwrap_or_else(|| sized_to_budget(options.max_trials, 0.2, 5, 20, 20)),
            state: State {
                rng: SeededRng::from_seed(options.seed),
                history: Vec::new(),
                running: BTreeMap::new(),
                proposed: HashSet::new(),
            },
            options,
            space: None,
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.space = Some((space.clone(), SpaceModel::new(space)));
        Ok(())
    }

    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>> {
        let Some(selections) = self.propose()? else {
            return Ok(None);
        };
        let (space, _) = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        let arch = Architecture::new(space, selections.clone())?;
        self.state.proposed.insert(selections.clone());
        self.state.running.insert(id, selections);
        Ok(Some(arch))
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        self.state.running.remove(&id);
        if !metric.default.is_finite() {
            return Ok(()); // A NaN or infinite result tells the model nothing.
        }
        let loss = match self.options.optimize_mode {
            OptimizeMode::Maximize => -metric.default,
            OptimizeMode::Minimize => metric.default,
        };
        let selections = parameters.selections().to_vec();
        self.state.proposed.insert(selections.clone());
        self.state.history.push((selections, loss));
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, _success: bool) -> Result<()> {
        self.state.running.remove(&id);
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        serde_json::to_value(&self.state)
            .map_err(|e| PluginError::internal(format!("saving state: {e}")))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let state: State =
            serde_json::from_value(state.clone()).map_err(|e| bad_state("tpe", e))?;
        let (space, _) = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        let fits = state
            .history
            .iter()
            .map(|h| &h.0)
            .chain(state.running.values())
            .chain(&state.proposed)
            .all(|s| Architecture::new(space, s.clone()).is_ok());
        if !fits {
            return Err(PluginError::invalid_input(
                "saved state: the tpe state does not fit the current search space (was it saved for another space?)",
            ));
        }
        self.state = state;
        Ok(())
    }
}
