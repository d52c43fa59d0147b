//! The evolution tuner.

use archon_plugin_api::{
    plugin_options, Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId,
    PluginError, Result, SearchSpace, Selection, Tuner,
};
use archon_plugin_support::{
    budget::sized_to_budget, check_architectures_fit, load_state, save_state, SeededRng,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};

/// How many mutations to try for an unseen architecture before drawing at random.
const DRAWS: usize = 200;

plugin_options! {
    /// The evolution tuner's options.
    pub struct EvolutionOptions {
        /// Architectures in the population (the oldest dies when a child is born); the
        /// first this many trials are random (default: a fifth of `max_trials`, 10 to
        /// 100 — NNI's 100 at 500 trials or more; 20 without a budget).
        pub population_size: Option<usize> = None,
        /// Population members drawn per tournament; the best becomes the parent
        /// (default: a quarter of the population, at least 2).
        pub sample_size: Option<usize> = None,
        /// Per-choice probability that a mutation redraws it.
        pub mutation_prob: f64 = 0.05,
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// The experiment's trial budget (the host sets it from `max_trials`).
        pub max_trials: Option<u64> = None,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
    }
}

/// Regularized evolution (options: [`EvolutionOptions`]).
pub struct EvolutionTuner {
    population_size: usize,
    sample_size: usize,
    mutation_prob: f64,
    maximize: bool,
    rng: SeededRng,
    space: Option<SearchSpace>,
    state: State,
}

/// Everything that changes as the search goes (saved and restored).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// (architecture, metric), oldest first.
    population: VecDeque<(Vec<Selection>, f64)>,
    /// Proposed, not yet ended.
    pending: HashMap<u64, Vec<Selection>>,
    /// Every architecture proposed.
    seen: HashSet<Vec<Selection>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    rng: SeededRng,
    state: State,
}

impl EvolutionTuner {
    fn space(&self) -> Result<&SearchSpace> {
        self.space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))
    }

    /// A random architecture not proposed before, or `None` when there is none.
    fn random_unseen(&mut self, space: &SearchSpace) -> Option<Vec<Selection>> {
        let rng = &mut self.rng;
        space.sample_unseen(&self.state.seen, &mut |n| rng.below(n))
    }

    /// The best of `sample_size` population members drawn at random.
    fn tournament(&mut self) -> Vec<Selection> {
        let n = self.state.population.len();
        let mut best: Option<&(Vec<Selection>, f64)> = None;
        for _ in 0..self.sample_size.min(n).max(1) {
            let candidate = &self.state.population[self.rng.below(n as u128) as usize];
            let better = match best {
                None => true,
                Some((_, b)) if self.maximize => candidate.1 > *b,
                Some((_, b)) => candidate.1 < *b,
            };
            if better {
                best = Some(candidate);
            }
        }
        best.map(|b| b.0.clone()).unwrap_or_default()
    }
}

impl Tuner for EvolutionTuner {
    /// Every type: numbers are drawn from their prior (NNI's semantics) and, in
    /// evolution, redrawn when mutated.
    const SUPPORTED_TYPES: &'static [&'static str] = &archon_plugin_api::space::ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = EvolutionOptions::from_options(options, "evolution")?;
        let population_size = options
            .population_size
            .unwrap_or_else(|| sized_to_budget(options.max_trials, 0.2, 10, 100, 20));
        let sample_size = options
            .sample_size
            .unwrap_or((population_size / 4).max(2).min(population_size));
        let mutation_prob = options.mutation_prob;
        if population_size == 0 || sample_size == 0 || sample_size > population_size {
            return Err(PluginError::invalid_input(format!(
                "options: evolution needs 1 ≤ sample_size ≤ population_size, found sample_size {sample_size}, population_size {population_size}"
            )));
        }
        if !(0.0..=1.0).contains(&mutation_prob) {
            return Err(PluginError::invalid_input(format!(
                "options: \"mutation_prob\" must be between 0 and 1, found {mutation_prob}"
            )));
        }
        let maximize = options.optimize_mode == OptimizeMode::Maximize;
        Ok(EvolutionTuner {
            population_size,
            sample_size,
            mutation_prob,
            maximize,
            rng: SeededRng::from_seed(options.seed),
            space: None,
            state: State::default(),
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.space = Some(space.clone());
        self.state = State::default();
        Ok(())
    }

    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>> {
        let space = self.space()?.clone();
        if space
            .size()
            .is_some_and(|n| self.state.seen.len() as u128 >= n)
        {
            return Ok(None);
        }
        let mut child = None;
        if self.state.population.len() >= self.population_size {
            let parent = self.tournament();
            for _ in 0..DRAWS {
                let candidate = archon_plugin_support::evolution::mutate(
                    &space,
                    &parent,
                    self.mutation_prob,
                    &mut self.rng,
                );
                if !self.state.seen.contains(&candidate) {
                    child = Some(candidate);
                    break;
                }
            }
        }
        let Some(child) = child.or_else(|| self.random_unseen(&space)) else {
            return Ok(None);
        };
        self.state.seen.insert(child.clone());
        self.state.pending.insert(id, child.clone());
        Architecture::new(&space, child).map(Some)
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        self.state.pending.remove(&id);
        // A trial this tuner did not propose (the pre-filter's) is never proposed again.
        self.state.seen.insert(parameters.selections().to_vec());
        self.state
            .population
            .push_back((parameters.selections().to_vec(), metric.default));
        while self.state.population.len() > self.population_size {
            self.state.population.pop_front();
        }
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, _success: bool) -> Result<()> {
        self.state.pending.remove(&id);
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&Saved {
            rng: self.rng.clone(),
            state: self.state.clone(),
        })
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let saved: Saved = load_state("evolution-tuner", state)?;
        check_architectures_fit(
            self.space()?,
            saved
                .state
                .seen
                .iter()
                .chain(saved.state.population.iter().map(|(s, _)| s)),
        )?;
        self.rng = saved.rng;
        self.state = saved.state;
        Ok(())
    }
}
