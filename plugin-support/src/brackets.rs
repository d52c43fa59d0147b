//! Hyperband's schedule (Li et al., JMLR 2018) as a tuner generic in how it picks the
//! architectures that start a bracket: at random (`hyperband`) or from a model of the
//! results so far (`bohb`).
//!
//! Budgets form a ladder `min_budget`, `min_budget·η`, … up to `max_budget` (rungs
//! 0..=K). Bracket s (s = K, K−1, …, 0, then again) starts ⌈(K+1)/(s+1)·η^s⌉
//! architectures at rung K−s; when all of a rung's trials have ended, the best ⌊n/η⌋
//! (at least one) continue at the next rung, up to `max_budget`. As in NNI's default
//! "parallelism" mode, a free trial slot starts the next bracket rather than wait for
//! a rung to finish; when nothing can start, the tuner says so and is asked again after
//! the next result. A promotion is a new trial of the same architecture at the higher
//! budget (`promoted_from`).

use crate::{
    bad_state,
    fidelity::{ladder, Run, Runs},
    SeededRng,
};
use archon_plugin_api::{
    plugin_options, space::ALL_TYPES, Architecture, Metric, OptimizeMode, OptionSet, Options,
    ParameterId, PluginError, Result, SearchSpace, Selection, Tuner,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

plugin_options! {
    /// The options every bracket tuner shares.
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
    }
}

/// How a bracket tuner picks the architectures that start a bracket.
pub trait BracketSampler: Send + 'static + Sized {
    /// The plugin's name (for messages).
    const NAME: &'static str;
    /// The plugin's options: [`BracketOptions`] flattened into them, plus its own.
    type Options: OptionSet + Send + 'static;
    /// The shared options.
    fn shared(options: &Self::Options) -> &BracketOptions;
    /// The sampler, from the plugin's options.
    fn new(options: &Self::Options) -> Result<Self>;
    /// Up to `n` architectures never started before (`runs.proposed`), from what
    /// `runs` and `ladder` say so far; fewer (or none) when the space runs out.
    fn sample(
        &mut self,
        space: &SearchSpace,
        runs: &Runs,
        ladder: &[f64],
        rng: &mut SeededRng,
        n: usize,
    ) -> Vec<Vec<Selection>>;
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

/// A Hyperband-scheduled tuner whose brackets start from `S`'s architectures.
pub struct BracketTuner<S: BracketSampler> {
    options: BracketOptions,
    sampler: S,
    ladder: Vec<f64>,
    space: Option<SearchSpace>,
    state: State,
}

impl<S: BracketSampler> BracketTuner<S> {
    /// The highest rung, K.
    fn top(&self) -> usize {
        self.ladder.len() - 1
    }

    /// Moves bracket `b` to its next rung once every trial of its rung has ended;
    /// false when the bracket is complete.
    fn advance(&mut self, b: usize) -> bool {
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
        if rung == self.top() {
            return false;
        }
        let keep = ((size as f64 / self.options.eta).floor() as usize).max(1);
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

    /// Starts the next bracket; false when the sampler has nothing new.
    fn start_bracket(&mut self, space: &SearchSpace) -> bool {
        let k = self.top();
        let s = k - self.state.started % (k + 1);
        let n = ((k + 1) as f64 / (s + 1) as f64 * self.options.eta.powi(s as i32)).ceil() as usize;
        let fresh = self.sampler.sample(
            space,
            &self.state.runs,
            &self.ladder,
            &mut self.state.rng,
            n,
        );
        if fresh.is_empty() {
            return false;
        }
        self.state.runs.proposed.extend(fresh.iter().cloned());
        self.state.brackets.push(Bracket {
            index: self.state.started,
            rung: k - s,
            size: fresh.len(),
            queue: fresh.into_iter().map(|s| (s, None)).collect(),
        });
        self.state.started += 1;
        true
    }
}

impl<S: BracketSampler> Tuner for BracketTuner<S> {
    /// Every type: architectures are drawn from the prior (or a model over every type).
    const SUPPORTED_TYPES: &'static [&'static str] = &ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let all = S::Options::from_options(options, S::NAME)?;
        let shared = S::shared(&all).clone();
        let ladder = ladder(shared.min_budget, shared.max_budget, shared.eta)
            .map_err(|e| PluginError::invalid_input(format!("{}: {}", S::NAME, e.message())))?;
        Ok(BracketTuner {
            sampler: S::new(&all)?,
            state: State {
                rng: SeededRng::from_seed(shared.seed),
                runs: Runs::default(),
                brackets: Vec::new(),
                started: 0,
            },
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
            serde_json::from_value(state.clone()).map_err(|e| bad_state(S::NAME, e))?;
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        state.runs.check_fits(space, &self.ladder, S::NAME)?;
        if state.brackets.iter().any(|b| b.rung >= self.ladder.len()) {
            return Err(PluginError::invalid_input(format!(
                "saved state: the {} state does not fit these budgets (was it saved for another experiment?)",
                S::NAME
            )));
        }
        self.state = state;
        Ok(())
    }
}

/// Architectures at random (Hyperband's own choice).
pub struct RandomSampler;

impl RandomSampler {
    /// Up to `n` architectures at random, none started before.
    pub fn draw(
        space: &SearchSpace,
        runs: &Runs,
        rng: &mut SeededRng,
        n: usize,
    ) -> Vec<Vec<Selection>> {
        let mut seen = runs.proposed.clone();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some(s) = Self::draw_unseen(space, &seen, rng) else {
                break;
            };
            seen.insert(s.clone());
            out.push(s);
        }
        out
    }

    /// One architecture at random not in `seen`, or `None` when a finite space has none.
    pub fn draw_unseen(
        space: &SearchSpace,
        seen: &std::collections::HashSet<Vec<Selection>>,
        rng: &mut SeededRng,
    ) -> Option<Vec<Selection>> {
        space.sample_unseen(seen, &mut |k| rng.below(k))
    }
}
