//! The local search tuner.

use archon_plugin_api::{
    plugin_options, Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId,
    PluginError, Result, SearchSpace, Selection, Tuner,
};
use archon_plugin_support::{
    budget::sized_to_budget, check_architectures_fit, load_state, neighbours::neighbours,
    save_state, SeededRng,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

plugin_options! {
    /// The local search tuner's options.
    pub struct LocalSearchOptions {
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// Random architectures drawn at the start and at every restart; the walk
        /// starts from the best of them (default: a third of `max_trials`, 2 to 10;
        /// 10 without a budget).
        pub initial: Option<usize> = None,
        /// The experiment's trial budget (the host sets it from `max_trials`).
        pub max_trials: Option<u64> = None,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
    }
}

/// Local search over one-edit neighbours (options: [`LocalSearchOptions`]).
pub struct LocalSearchTuner {
    maximize: bool,
    initial: usize,
    rng: SeededRng,
    space: Option<SearchSpace>,
    state: State,
}

/// Everything that changes as the search goes (saved and restored).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// Where the walk stands (`None` while drawing the random start).
    current: Option<(Vec<Selection>, f64)>,
    /// Results since the last (re)start, while `current` is `None`.
    start_pool: Vec<(Vec<Selection>, f64)>,
    /// The current architecture's neighbours not yet proposed, in the order to try.
    queue: Vec<Vec<Selection>>,
    /// Every architecture proposed or reported.
    seen: HashSet<Vec<Selection>>,
    /// Local optima reached so far (restarts).
    local_optima: usize,
    /// For each running proposal, `local_optima` when it was made: after a restart,
    /// only the new start's draws (and trials of others) make up its pool, not the old
    /// walk's late neighbours.
    epoch: HashMap<u64, usize>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    rng: SeededRng,
    state: State,
}

impl LocalSearchTuner {
    fn space(&self) -> Result<&SearchSpace> {
        self.space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))
    }

    fn better(&self, a: f64, b: f64) -> bool {
        if self.maximize {
            a > b
        } else {
            a < b
        }
    }

    /// Walks on from `selections`: its unseen neighbours, shuffled, become the queue.
    fn move_to(&mut self, space: &SearchSpace, selections: Vec<Selection>, value: f64) {
        let mut queue: Vec<Vec<Selection>> = neighbours(space, &selections, &mut self.rng)
            .into_iter()
            .filter(|n| !self.state.seen.contains(n))
            .collect();
        // Fisher–Yates, so that the order is the seeded generator's.
        for i in (1..queue.len()).rev() {
            let j = self.rng.below(i as u128 + 1) as usize;
            queue.swap(i, j);
        }
        // Popped from the back.
        self.state.queue = queue;
        self.state.current = Some((selections, value));
        self.state.start_pool.clear();
    }

    /// The next unseen neighbour of the current architecture, if any is left.
    fn next_neighbour(&mut self) -> Option<Vec<Selection>> {
        while let Some(candidate) = self.state.queue.pop() {
            if !self.state.seen.contains(&candidate) {
                return Some(candidate);
            }
        }
        None
    }
}

impl Tuner for LocalSearchTuner {
    /// Every type: categorical choices move to another candidate, numbers step.
    const SUPPORTED_TYPES: &'static [&'static str] = &archon_plugin_api::space::ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = LocalSearchOptions::from_options(options, "local_search")?;
        let initial = options
            .initial
            .unwrap_or_else(|| sized_to_budget(options.max_trials, 1.0 / 3.0, 2, 10, 10));
        if initial == 0 {
            return Err(PluginError::invalid_input(
                "options: \"initial\" (random architectures the walk starts from the best of) must be at least 1, found 0",
            ));
        }
        Ok(LocalSearchTuner {
            maximize: options.optimize_mode == OptimizeMode::Maximize,
            initial,
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
        if self.state.current.is_some() {
            child = self.next_neighbour();
            if child.is_none() {
                // Every neighbour tried (or running) without improvement: a local
                // optimum. Start again from random architectures.
                self.state.current = None;
                self.state.start_pool.clear();
                self.state.local_optima += 1;
            }
        }
        let child = match child {
            Some(c) => c,
            None => {
                let rng = &mut self.rng;
                match space.sample_unseen(&self.state.seen, &mut |n| rng.below(n)) {
                    Some(c) => c,
                    None => return Ok(None),
                }
            }
        };
        self.state.seen.insert(child.clone());
        self.state.epoch.insert(id, self.state.local_optima);
        Architecture::new(&space, child).map(Some)
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        let epoch = self.state.epoch.remove(&id);
        let selections = parameters.selections().to_vec();
        // A trial this tuner did not propose (the pre-filter's) is never proposed again.
        self.state.seen.insert(selections.clone());
        let value = metric.default;
        let space = self.space()?.clone();
        match &self.state.current {
            Some((_, current)) => {
                if self.better(value, *current) {
                    self.move_to(&space, selections, value);
                }
            }
            None if epoch.is_some_and(|e| e != self.state.local_optima) => {}
            None => {
                self.state.start_pool.push((selections, value));
                if self.state.start_pool.len() >= self.initial {
                    let mut best = 0;
                    for (i, (_, v)) in self.state.start_pool.iter().enumerate() {
                        if self.better(*v, self.state.start_pool[best].1) {
                            best = i;
                        }
                    }
                    let (start, v) = self.state.start_pool.swap_remove(best);
                    self.move_to(&space, start, v);
                }
            }
        }
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, success: bool) -> Result<()> {
        // A successful trial's result removes it (a result may come after its end).
        if !success {
            self.state.epoch.remove(&id);
        }
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&Saved {
            rng: self.rng.clone(),
            state: self.state.clone(),
        })
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let saved: Saved = load_state("local_search-tuner", state)?;
        let s = &saved.state;
        check_architectures_fit(
            self.space()?,
            s.seen
                .iter()
                .chain(&s.queue)
                .chain(s.current.iter().map(|(a, _)| a))
                .chain(s.start_pool.iter().map(|(a, _)| a)),
        )?;
        self.rng = saved.rng;
        self.state = saved.state;
        Ok(())
    }
}
