//! The ASHA tuner: promotions, new architectures, and the saved state.

use archon_plugin_api::{
    plugin_options, space::ALL_TYPES, Architecture, Metric, OptionSet, Options, ParameterId,
    PluginError, Result, SearchSpace, Tuner,
};
use archon_plugin_support::{
    bad_state,
    brackets::BracketOptions,
    fidelity::{ladder, Run, Runs},
    SeededRng,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

plugin_options! {
    /// ASHA's options: the budget ladder and η, as Hyperband's.
    pub struct AshaOptions {
        #[flatten]
        pub schedule: BracketOptions = BracketOptions::default(),
    }
}

/// ASHA (options: [`AshaOptions`]).
pub struct AshaTuner {
    options: BracketOptions,
    ladder: Vec<f64>,
    space: Option<SearchSpace>,
    state: State,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    rng: SeededRng,
    runs: Runs,
}

impl AshaTuner {
    /// The next promotion: the best not-yet-promoted trial in the top 1/η of its rung,
    /// highest rung first.
    fn promotion(&self) -> Option<u64> {
        let eta = self.options.eta;
        (0..self.ladder.len() - 1).rev().find_map(|rung| {
            let ranked = self.state.runs.ranked(0, rung);
            let top = (ranked.len() as f64 / eta).floor() as usize;
            ranked[..top]
                .iter()
                .copied()
                .find(|id| !self.state.runs.runs[id].promoted)
        })
    }
}

impl Tuner for AshaTuner {
    /// Every type: new architectures are drawn from the prior.
    const SUPPORTED_TYPES: &'static [&'static str] = &ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = AshaOptions::from_options(options, "asha")?.schedule;
        let ladder = ladder(options.min_budget, options.max_budget, options.eta)
            .map_err(|e| PluginError::invalid_input(format!("asha: {}", e.message())))?;
        Ok(AshaTuner {
            state: State {
                rng: SeededRng::from_seed(options.seed),
                runs: Runs::default(),
            },
            options,
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
            .clone()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        let run = match self.promotion() {
            Some(from) => {
                let parent = self
                    .state
                    .runs
                    .runs
                    .get_mut(&from)
                    .ok_or_else(|| PluginError::internal("promoted trial vanished"))?;
                parent.promoted = true;
                Run {
                    selections: parent.selections.clone(),
                    rung: parent.rung + 1,
                    promoted_from: Some(from),
                    loss: None,
                    ended: false,
                    promoted: false,
                    bracket: 0,
                }
            }
            None => {
                // Nothing to promote: a new architecture, or none left (asked again after
                // the next result, which may allow a promotion).
                let Some(selections) = self.state.runs.fresh(&space, &mut self.state.rng) else {
                    return Ok(None);
                };
                Run {
                    selections,
                    rung: 0,
                    promoted_from: None,
                    loss: None,
                    ended: false,
                    promoted: false,
                    bracket: 0,
                }
            }
        };
        let arch = Architecture::new(&space, run.selections.clone())?;
        self.state.runs.runs.insert(id, run);
        Ok(Some(arch))
    }

    fn trial_info(&self, id: ParameterId) -> Result<Option<Value>> {
        Ok(self.state.runs.info(id, &self.ladder))
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        _parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        self.state
            .runs
            .receive(id, metric.default, self.options.optimize_mode);
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, _success: bool) -> Result<()> {
        self.state.runs.end(id);
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        serde_json::to_value(&self.state)
            .map_err(|e| PluginError::internal(format!("saving state: {e}")))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let state: State =
            serde_json::from_value(state.clone()).map_err(|e| bad_state("asha", e))?;
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        state.runs.check_fits(space, &self.ladder, "asha")?;
        self.state = state;
        Ok(())
    }
}
