//! The Hyperband tuner: brackets, their successive halving, and the saved state.

use archon_plugin_api::{
    plugin_options, space::ALL_TYPES, Architecture, Metric, OptimizeMode, OptionSet, Options,
    ParameterId, PluginError, Result, SearchSpace, Selection, Tuner,
};
use archon_plugin_support::{
    bad_state,
    fidelity::{ladder, Run, Runs},
    SeededRng,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

plugin_options! {
    /// Hyperband's options.
    pub struct HyperbandOptions {
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
    }
}

/// One bracket of successive halving.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Bracket {
    /// Its number (the `bracket` of its trials).
    index: usize,
    /// The rung its trials run at now.
    rung: usize,
    /// How many trials that rung has in all.
    size: usize,
    /// Architectures still to start at that rung, with the trial each continues.
    queue: VecDeque<(Vec<Selection>, Option<u64>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    rng: SeededRng,
    runs: Runs,
    brackets: Vec<Bracket>,
    started: usize,
}

/// Hyperband (options: [`HyperbandOptions`]).
pub struct HyperbandTuner {
    options: HyperbandOptions,
    ladder: Vec<f64>,
    space: Option<SearchSpace>,
    state: State,
}

impl HyperbandTuner {
    /// The highest rung, K.
    fn top(&self) -> usize {
        self.ladder.len() - 1
    }

    /// Moves bracket `b` to its next rung once every trial of its rung has ended;
    /// false when the bracket is complete.
    fn advance(&mut self, b: usize) -> bool {
        let top = self.top();
        let eta = self.options.eta;
        let bracket = &self.state.brackets[b];
        if !bracket.queue.is_empty() {
            return true;
        }
        let (index, rung, size) = (bracket.index, bracket.rung, bracket.size);
        let ended = self
            .state
            .runs
            .runs
            .values()
            .filter(|r| r.bracket == index && r.rung == rung && r.ended)
            .count();
        if ended < size {
            return true; // Waiting for this rung's results.
        }
        if rung == top {
            return false;
        }
        let keep = ((size as f64 / eta).floor() as usize).max(1);
        let next: VecDeque<(Vec<Selection>, Option<u64>)> = self
            .state
            .runs
            .ranked(index, rung)
            .into_iter()
            .take(keep)
            .map(|id| (self.state.runs.runs[&id].selections.clone(), Some(id)))
            .collect();
        if next.is_empty() {
            return false; // Every trial of the rung failed.
        }
        let bracket = &mut self.state.brackets[b];
        bracket.rung += 1;
        bracket.size = next.len();
        bracket.queue = next;
        true
    }

    /// Starts the next bracket: s = K − (number mod K+1) starts ⌈(K+1)/(s+1)·η^s⌉ new
    /// architectures at rung K − s. False when the space has none left.
    fn start_bracket(&mut self, space: &SearchSpace) -> bool {
        let k = self.top();
        let s = k - self.state.started % (k + 1);
        let n = ((k + 1) as f64 / (s + 1) as f64 * self.options.eta.powi(s as i32)).ceil() as usize;
        let mut queue = VecDeque::new();
        for _ in 0..n {
            match self.state.runs.fresh(space, &mut self.state.rng) {
                Some(selections) => queue.push_back((selections, None)),
                None => break,
            }
        }
        if queue.is_empty() {
            return false;
        }
        self.state.brackets.push(Bracket {
            index: self.state.started,
            rung: k - s,
            size: queue.len(),
            queue,
        });
        self.state.started += 1;
        true
    }
}

impl Tuner for HyperbandTuner {
    /// Every type: new architectures are drawn from the prior.
    const SUPPORTED_TYPES: &'static [&'static str] = &ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = HyperbandOptions::from_options(options, "hyperband")?;
        let ladder = ladder(options.min_budget, options.max_budget, options.eta)
            .map_err(|e| PluginError::invalid_input(format!("hyperband: {}", e.message())))?;
        Ok(HyperbandTuner {
            state: State {
                rng: SeededRng::from_seed(options.seed),
                runs: Runs::default(),
                brackets: Vec::new(),
                started: 0,
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
        let mut b = 0;
        while b < self.state.brackets.len() {
            if self.advance(b) {
                b += 1;
            } else {
                self.state.brackets.remove(b);
            }
        }
        let pick = |brackets: &mut Vec<Bracket>| {
            brackets.iter_mut().find_map(|br| {
                br.queue
                    .pop_front()
                    .map(|(selections, from)| (selections, from, br.index, br.rung))
            })
        };
        let mut next = pick(&mut self.state.brackets);
        if next.is_none() && self.start_bracket(&space) {
            next = pick(&mut self.state.brackets);
        }
        // Nothing to start now: the host asks again after the next result.
        let Some((selections, promoted_from, bracket, rung)) = next else {
            return Ok(None);
        };
        let arch = Architecture::new(&space, selections.clone())?;
        self.state.runs.runs.insert(
            id,
            Run {
                selections,
                rung,
                promoted_from,
                loss: None,
                ended: false,
                promoted: false,
                bracket,
            },
        );
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
            serde_json::from_value(state.clone()).map_err(|e| bad_state("hyperband", e))?;
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        state.runs.check_fits(space, &self.ladder, "hyperband")?;
        if state.brackets.iter().any(|b| b.rung >= self.ladder.len()) {
            return Err(PluginError::invalid_input(
                "saved state: the hyperband state does not fit these budgets (was it saved for another experiment?)",
            ));
        }
        self.state = state;
        Ok(())
    }
}
