//! A multi-fidelity tuner generic in its schedule: what ASHA and the Hyperband family
//! (`brackets`) share — the budget ladder, the trials with their rungs and results
//! ([`Runs`]), the seeded generator, the host's per-trial info, results, trial ends and
//! the saved state. A [`Schedule`] only decides which architecture starts next, at which
//! rung, continuing which trial.

use crate::{
    bad_state,
    fidelity::{ladder, Run, Runs},
    SeededRng,
};
use archon_plugin_api::{
    plugin_options, space::ALL_TYPES, Architecture, Metric, OptimizeMode, OptionSet, Options,
    ParameterId, PluginError, Result, SearchSpace, Selection, Tuner,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;

plugin_options! {
    /// The options every multi-fidelity schedule shares (ASHA, the Hyperband family).
    pub struct BracketOptions {
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
        /// The budget of the lowest rung (e.g. epochs).
        pub min_budget: f64 = 1.0,
        /// The budget of the highest rung (NNI's R).
        pub max_budget: f64 = 27.0,
        /// The reduction factor η: the top 1/η of a rung continues, budgets grow by η.
        pub eta: f64 = 3.0,
        /// Rank a rung's trials (who is promoted; BOHB's model) by this key of the
        /// reported metric instead of its value, e.g. `"tse"`: the sum of the training
        /// losses of the epochs run so far (training speed estimation, Ru et al. 2021),
        /// which the built-in trial and ground-truth tables report. Empty: the value.
        pub promote_by: String = String::new(),
        /// Whether a smaller or a larger `promote_by` is better.
        pub promote_mode: OptimizeMode = OptimizeMode::Minimize,
    }
}

/// What a schedule sees when it picks the next trial.
pub struct Ctx<'a> {
    pub space: &'a SearchSpace,
    /// Every trial so far; `runs.proposed` holds the architectures started at the bottom
    /// of a bracket or rung ladder (a schedule adds the ones it starts).
    pub runs: &'a mut Runs,
    pub ladder: &'a [f64],
    pub rng: &'a mut SeededRng,
    pub options: &'a BracketOptions,
}

/// The next trial a schedule starts.
pub struct Start {
    pub selections: Vec<Selection>,
    /// Its rung (index into the ladder).
    pub rung: usize,
    /// The trial it continues at a higher budget (a promotion).
    pub promoted_from: Option<u64>,
    /// Its bracket (Hyperband) or 0.
    pub bracket: usize,
}

/// Which trial starts next.
pub trait Schedule: Send + 'static + Sized {
    /// The plugin's name (for messages).
    const NAME: &'static str;
    /// The plugin's options: [`BracketOptions`] flattened into them, plus its own.
    type Options: OptionSet + Send + 'static;
    /// What the schedule keeps beyond the trials (saved and restored with them).
    type State: Serialize + DeserializeOwned + Default + Clone + Send + 'static;
    /// The shared options.
    fn shared(options: &Self::Options) -> &BracketOptions;
    /// The schedule, from the plugin's options.
    fn new(options: &Self::Options) -> Result<Self>;
    /// The next trial, or `None` when nothing can start now (the host asks again after
    /// the next result; `None` while nothing runs ends the search).
    fn next(&mut self, state: &mut Self::State, ctx: Ctx<'_>) -> Option<Start>;
    /// Whether a restored state fits these budgets.
    fn fits(_state: &Self::State, _ladder: &[f64]) -> bool {
        true
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved<T> {
    rng: SeededRng,
    runs: Runs,
    schedule: T,
}

/// A multi-fidelity tuner run by schedule `P`.
pub struct Scheduled<P: Schedule> {
    options: BracketOptions,
    schedule: P,
    ladder: Vec<f64>,
    space: Option<SearchSpace>,
    rng: SeededRng,
    runs: Runs,
    state: P::State,
}

impl<P: Schedule> Tuner for Scheduled<P> {
    /// Every type: architectures are drawn from the prior (or a model over every type).
    const SUPPORTED_TYPES: &'static [&'static str] = &ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let all = P::Options::from_options(options, P::NAME)?;
        let shared = P::shared(&all).clone();
        let ladder = ladder(shared.min_budget, shared.max_budget, shared.eta)
            .map_err(|e| PluginError::invalid_input(format!("{}: {}", P::NAME, e.message())))?;
        Ok(Scheduled {
            schedule: P::new(&all)?,
            rng: SeededRng::from_seed(shared.seed),
            runs: Runs::default(),
            state: P::State::default(),
            options: shared,
            ladder,
            space: None,
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.space = Some(space.clone());
        Ok(())
    }

    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>> {
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        let ctx = Ctx {
            space,
            runs: &mut self.runs,
            ladder: &self.ladder,
            rng: &mut self.rng,
            options: &self.options,
        };
        let Some(start) = self.schedule.next(&mut self.state, ctx) else {
            return Ok(None);
        };
        let arch = Architecture::new(space, start.selections.clone())?;
        self.runs.runs.insert(
            id,
            Run {
                selections: start.selections,
                rung: start.rung,
                promoted_from: start.promoted_from,
                loss: None,
                ended: false,
                promoted: false,
                bracket: start.bracket,
            },
        );
        Ok(Some(arch))
    }

    fn trial_info(&self, id: ParameterId) -> Result<Option<Value>> {
        Ok(self.runs.info(id, &self.ladder))
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        if !self.runs.runs.contains_key(&id) {
            // Not one of ours (a pre-filter pick): nothing to rank, but never start
            // that architecture again.
            self.runs.proposed.insert(parameters.selections().to_vec());
            return Ok(());
        }
        let options = &self.options;
        if options.promote_by.is_empty() {
            self.runs.receive(id, metric.default, options.optimize_mode);
            return Ok(());
        }
        let value = metric
            .raw
            .get(&options.promote_by)
            .and_then(Value::as_f64)
            .ok_or_else(|| {
                let keys = metric
                    .raw
                    .as_object()
                    .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                PluginError::invalid_input(format!(
                    "{}: promote_by = {:?}, but trial {id}'s metric has no such number (it reported {}); \
                     the built-in trial and ground-truth tables report \"tse\" and \"train_loss\", \
                     a trial script must print the key in its metric, or leave promote_by empty",
                    P::NAME,
                    options.promote_by,
                    if keys.is_empty() { metric.raw.to_string() } else { keys }
                ))
            })?;
        self.runs.receive(id, value, options.promote_mode);
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, _success: bool) -> Result<()> {
        self.runs.end(id);
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        serde_json::to_value(Saved {
            rng: self.rng.clone(),
            runs: self.runs.clone(),
            schedule: self.state.clone(),
        })
        .map_err(|e| PluginError::internal(format!("saving state: {e}")))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let saved: Saved<P::State> =
            serde_json::from_value(state.clone()).map_err(|e| bad_state(P::NAME, e))?;
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        saved.runs.check_fits(space, &self.ladder, P::NAME)?;
        if !P::fits(&saved.schedule, &self.ladder) {
            return Err(PluginError::invalid_input(format!(
                "saved state: the {} state does not fit these budgets (was it saved for another experiment?)",
                P::NAME
            )));
        }
        self.rng = saved.rng;
        self.runs = saved.runs;
        self.state = saved.schedule;
        Ok(())
    }
}
