//! The random tuner.

use crate::sampler::Sampler;
use archon_plugin_api::{
    Architecture, Metric, Options, ParameterId, PluginError, Result, SearchSpace, Tuner,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Uniform random search without repeats. Options: `seed` (whole number; drawn from
/// the OS when absent, and kept in the saved state) and `optimize_mode`
/// (`"maximize"`/`"minimize"`, accepted for symmetry with other tuners; random search
/// ignores results).
pub struct RandomTuner {
    seed: u64,
    rng: ChaCha8Rng,
    space: Option<SearchSpace>,
    sampler: Sampler,
    generated: u64,
}

/// What `save_state` writes.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    seed: u64,
    /// The generator's position in its stream (ChaCha8 word position), as text.
    rng_word_pos: String,
    generated: u64,
    sampler: Sampler,
}

impl Tuner for RandomTuner {
    fn new(options: &Options) -> Result<Self> {
        options.deny_unknown("random", &["seed", "optimize_mode"])?;
        options.one_of("optimize_mode", &["maximize", "minimize"])?;
        let seed = match options.u64("seed")? {
            Some(seed) => seed,
            None => rand::rng().random(),
        };
        Ok(RandomTuner {
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
            space: None,
            sampler: Sampler::Empty,
            generated: 0,
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
        let arch = self.sampler.next(space, &mut self.rng)?;
        if arch.is_some() {
            self.generated += 1;
        }
        Ok(arch)
    }

    fn receive_trial_result(
        &mut self,
        _id: ParameterId,
        _parameters: &Architecture,
        _metric: &Metric,
    ) -> Result<()> {
        Ok(())
    }

    fn trial_end(&mut self, _id: ParameterId, _success: bool) -> Result<()> {
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        let state = State {
            seed: self.seed,
            rng_word_pos: self.rng.get_word_pos().to_string(),
            generated: self.generated,
            sampler: self.sampler.clone(),
        };
        serde_json::to_value(state).map_err(|e| PluginError::internal(format!("saving state: {e}")))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let state: State = serde_json::from_value(state.clone()).map_err(|e| {
            PluginError::invalid_input(format!("saved state: not a random-tuner state: {e}"))
        })?;
        let word_pos: u128 = state.rng_word_pos.parse().map_err(|_| {
            PluginError::invalid_input(format!(
                "saved state: rng_word_pos {:?} is not a whole number",
                state.rng_word_pos
            ))
        })?;
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        state.sampler.check_fits(space)?;
        let mut rng = ChaCha8Rng::seed_from_u64(state.seed);
        rng.set_word_pos(word_pos);
        self.seed = state.seed;
        self.rng = rng;
        self.generated = state.generated;
        self.sampler = state.sampler;
        Ok(())
    }
}
