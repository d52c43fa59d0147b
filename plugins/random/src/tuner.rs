//! The random tuner.

use crate::sampler::Sampler;
use archon_plugin_api::{
    plugin_options, Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId,
    PluginError, Result, SearchSpace, Selection, Tuner,
};
use archon_plugin_support::{bad_state, SeededRng};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

plugin_options! {
    /// The random tuner's options.
    pub struct RandomOptions {
        /// The generator's seed (drawn from the OS when absent, and kept in the saved
        /// state).
        pub seed: Option<u64> = None,
        /// Accepted for symmetry with other tuners; random search ignores results.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
    }
}

/// Uniform random search without repeats (options: [`RandomOptions`]).
pub struct RandomTuner {
    rng: SeededRng,
    space: Option<SearchSpace>,
    sampler: Sampler,
    generated: u64,
    /// Architectures whose results arrived (a pre-filter's trials among them): never
    /// proposed again.
    known: BTreeSet<Vec<Selection>>,
}

/// What `save_state` writes.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    rng: SeededRng,
    generated: u64,
    sampler: Sampler,
    #[serde(default)]
    known: Vec<Vec<Selection>>,
}

impl Tuner for RandomTuner {
    /// Every type: numbers are drawn from their prior (NNI's semantics) and, in
    /// evolution, redrawn when mutated.
    const SUPPORTED_TYPES: &'static [&'static str] = &archon_plugin_api::space::ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = RandomOptions::from_options(options, "random")?;
        Ok(RandomTuner {
            rng: SeededRng::from_seed(options.seed),
            space: None,
            sampler: Sampler::Empty,
            generated: 0,
            known: BTreeSet::new(),
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.sampler = Sampler::for_space(space);
        self.space = Some(space.clone());
        Ok(())
    }

    fn generate_parameters(&mut self, _id: ParameterId) -> Result<Option<Architecture>> {
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        let mut arch = self.sampler.next(space, &mut self.rng)?;
        // The sampler never repeats itself; results of trials it did not propose are
        // skipped over.
        while arch
            .as_ref()
            .is_some_and(|a| self.known.contains(a.selections()))
        {
            arch = self.sampler.next(space, &mut self.rng)?;
        }
        if arch.is_some() {
            self.generated += 1;
        }
        Ok(arch)
    }

    fn receive_trial_result(
        &mut self,
        _id: ParameterId,
        parameters: &Architecture,
        _metric: &Metric,
    ) -> Result<()> {
        self.known.insert(parameters.selections().to_vec());
        Ok(())
    }

    fn trial_end(&mut self, _id: ParameterId, _success: bool) -> Result<()> {
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        let state = State {
            rng: self.rng.clone(),
            generated: self.generated,
            sampler: self.sampler.clone(),
            known: self.known.iter().cloned().collect(),
        };
        serde_json::to_value(state).map_err(|e| PluginError::internal(format!("saving state: {e}")))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let state: State =
            serde_json::from_value(state.clone()).map_err(|e| bad_state("random-tuner", e))?;
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        state.sampler.check_fits(space)?;
        self.rng = state.rng;
        self.generated = state.generated;
        self.sampler = state.sampler;
        self.known = state.known.into_iter().collect();
        Ok(())
    }
}
