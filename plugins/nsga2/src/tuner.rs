//! The NSGA-II tuner: objectives, proposals, and the saved state.

use archon_plugin_api::{
    plugin_options, space::ALL_TYPES, Architecture, Metric, OptimizeMode, OptionSet, Options,
    ParameterId, PluginError, Result, SearchSpace, Selection, Tuner,
};
use archon_plugin_support::pareto::survivors;
use archon_plugin_support::{
    bad_state,
    evolution::{crossover, mutate},
    SeededRng,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;

plugin_options! {
    /// NSGA-II's options.
    pub struct Nsga2Options {
        /// The objectives, `[{metric, direction}]` (the host sets them from the
        /// experiment's `objectives`); without them, the trial's value in `optimize_mode`.
        pub objectives: Option<Vec<Map<String, Value>>> = None,
        /// Whether a larger or a smaller value is better (single objective only).
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
        /// Architectures in the population (and random ones to start with). 20: at the
        /// budgets of one machine (about 100 trials) a population of 50 — Optuna's
        /// default — spends half the search on random starts.
        pub population_size: usize = 20,
        /// Probability that a child is a crossover of two parents (else a copy of one).
        pub crossover_prob: f64 = 0.9,
        /// Probability that each choice of a child is redrawn (default: 1 / choices).
        pub mutation_prob: Option<f64> = None,
    }
}

/// One objective: the metric field and whether it is minimised.
#[derive(Debug, Clone, PartialEq)]
struct Objective {
    metric: String,
    minimize: bool,
}

/// NSGA-II (options: [`Nsga2Options`]).
pub struct Nsga2Tuner {
    options: Nsga2Options,
    objectives: Vec<Objective>,
    space: Option<SearchSpace>,
    state: State,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    rng: SeededRng,
    /// Finished trials: architecture and objective values (all to be minimised).
    results: Vec<(Vec<Selection>, Vec<f64>)>,
    /// Everything proposed.
    proposed: HashSet<Vec<Selection>>,
    generated: u64,
}

fn objectives_of(options: &Nsga2Options) -> Result<Vec<Objective>> {
    let Some(list) = &options.objectives else {
        return Ok(vec![Objective {
            metric: "default".into(),
            minimize: options.optimize_mode == OptimizeMode::Minimize,
        }]);
    };
    list.iter()
        .enumerate()
        .map(|(i, o)| {
            let metric = o.get("metric").and_then(Value::as_str);
            let direction = o.get("direction").and_then(Value::as_str);
            match (metric, direction) {
                (Some(m), Some(d @ ("maximize" | "minimize"))) => Ok(Objective {
                    metric: m.to_string(),
                    minimize: d == "minimize",
                }),
                _ => Err(PluginError::invalid_input(format!(
                    "nsga2: objectives[{i}] must be {{\"metric\": \"name\", \"direction\": \"maximize\" or \"minimize\"}}, found {}",
                    Value::Object(o.clone())
                ))),
            }
        })
        .collect()
}

impl Nsga2Tuner {
    /// The objective values of a result, to be minimised, or `None` if one is missing.
    fn values(&self, metric: &Metric) -> Option<Vec<f64>> {
        self.objectives
            .iter()
            .map(|o| {
                let v = if o.metric == "default" {
                    Some(metric.default)
                } else {
                    metric.raw.get(&o.metric).and_then(Value::as_f64)
                }?;
                v.is_finite().then_some(if o.minimize { v } else { -v })
            })
            .collect()
    }

    /// A child of the current population, or a random architecture.
    fn propose(&mut self, space: &SearchSpace) -> Option<Vec<Selection>> {
        let random_start = self.state.generated < self.options.population_size as u64
            || self.state.results.len() < 2;
        if !random_start {
            let points: Vec<Vec<f64>> = self.state.results.iter().map(|r| r.1.clone()).collect();
            let population = survivors(&points, self.options.population_size);
            let prob = self
                .options
                .mutation_prob
                .unwrap_or(1.0 / space.choices().len().max(1) as f64);
            for _ in 0..10 {
                let a = self.tournament(&population);
                let b = self.tournament(&population);
                let cross = self.coin(self.options.crossover_prob);
                let (pa, pb) = (&self.state.results[a].0, &self.state.results[b].0);
                let child = if cross {
                    crossover(pa, pb, &mut self.state.rng)
                } else {
                    pa.clone()
                };
                let child = space.canonical(mutate(space, &child, prob, &mut self.state.rng));
                if !self.state.proposed.contains(&child) {
                    return Some(child);
                }
            }
        }
        let rng = &mut self.state.rng;
        space.sample_unseen(&self.state.proposed, &mut |n| rng.below(n))
    }

    fn coin(&mut self, p: f64) -> bool {
        archon_plugin_api::space::unit(&mut |n| self.state.rng.below(n)) < p
    }

    /// Binary tournament: the better of two random members (lower rank, then larger
    /// crowding distance).
    fn tournament(&mut self, population: &[(usize, usize, f64)]) -> usize {
        let n = population.len() as u128;
        let x = population[self.state.rng.below(n) as usize];
        let y = population[self.state.rng.below(n) as usize];
        let better = x.1 < y.1 || (x.1 == y.1 && x.2 > y.2);
        if better {
            x.0
        } else {
            y.0
        }
    }
}

impl Tuner for Nsga2Tuner {
    /// Every type: children mix and redraw choices (numbers from their prior).
    const SUPPORTED_TYPES: &'static [&'static str] = &ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = Nsga2Options::from_options(options, "nsga2")?;
        if options.population_size < 2 {
            return Err(PluginError::invalid_input(
                "nsga2: population_size must be at least 2",
            ));
        }
        let probs = [Some(options.crossover_prob), options.mutation_prob];
        if probs.iter().flatten().any(|p| !(0.0..=1.0).contains(p)) {
            return Err(PluginError::invalid_input(
                "nsga2: crossover_prob and mutation_prob must be in [0, 1]",
            ));
        }
        Ok(Nsga2Tuner {
            objectives: objectives_of(&options)?,
            state: State {
                rng: SeededRng::from_seed(options.seed),
                results: Vec::new(),
                proposed: HashSet::new(),
                generated: 0,
            },
            options,
            space: None,
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.space = Some(space.clone());
        Ok(())
    }

    fn generate_parameters(&mut self, _id: ParameterId) -> Result<Option<Architecture>> {
        let space = self
            .space
            .clone()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        let Some(child) = self.propose(&space) else {
            return Ok(None);
        };
        let arch = Architecture::new(&space, child)?;
        self.state.proposed.insert(arch.selections().to_vec());
        self.state.generated += 1;
        Ok(Some(arch))
    }

    fn receive_trial_result(
        &mut self,
        _id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        // A trial this tuner did not propose (the pre-filter's) is never proposed again.
        self.state.proposed.insert(parameters.selections().to_vec());
        // A result without every objective tells the search nothing (the experiment
        // shows such trials as lacking an objective).
        if let Some(values) = self.values(metric) {
            self.state
                .results
                .push((parameters.selections().to_vec(), values));
        }
        Ok(())
    }

    fn trial_end(&mut self, _id: ParameterId, _success: bool) -> Result<()> {
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        serde_json::to_value(&self.state)
            .map_err(|e| PluginError::internal(format!("saving state: {e}")))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let state: State =
            serde_json::from_value(state.clone()).map_err(|e| bad_state("nsga2", e))?;
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        let fits = state.results.iter().all(|(s, v)| {
            v.len() == self.objectives.len() && Architecture::new(space, s.clone()).is_ok()
        }) && state
            .proposed
            .iter()
            .all(|s| Architecture::new(space, s.clone()).is_ok());
        if !fits {
            return Err(PluginError::invalid_input(
                "saved state: the nsga2 state does not fit the current search space and objectives (was it saved for another experiment?)",
            ));
        }
        self.state = state;
        Ok(())
    }
}
