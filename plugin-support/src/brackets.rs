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
    fidelity::Runs,
    scheduled::{Ctx, Schedule, Scheduled, Start},
    SeededRng,
};
use archon_plugin_api::{OptionSet, Result, SearchSpace, Selection};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

pub use crate::scheduled::BracketOptions;

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
pub struct Bracket {
    /// Its number (the `bracket` of its trials).
    index: usize,
    /// The rung its trials run at now.
    rung: usize,
    /// How many trials that rung has in all.
    size: usize,
    /// Architectures still to start at that rung, with the trial each continues.
    queue: VecDeque<(Vec<Selection>, Option<u64>)>,
}

/// The brackets under way and how many were started (saved with the trials).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BracketState {
    brackets: Vec<Bracket>,
    started: usize,
}

/// Hyperband's schedule, its brackets started from `S`'s architectures.
pub struct Brackets<S: BracketSampler> {
    sampler: S,
}

/// A Hyperband-scheduled tuner whose brackets start from `S`'s architectures.
pub type BracketTuner<S> = Scheduled<Brackets<S>>;

/// Moves bracket `b` to its next rung once every trial of its rung has ended; false
/// when the bracket is complete.
fn advance(state: &mut BracketState, b: usize, runs: &Runs, top: usize, eta: f64) -> bool {
    let bracket = &state.brackets[b];
    if !bracket.queue.is_empty() {
        return true;
    }
    let (index, rung, size) = (bracket.index, bracket.rung, bracket.size);
    let ended = runs
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
    let next: VecDeque<(Vec<Selection>, Option<u64>)> = runs
        .ranked(index, rung)
        .into_iter()
        .take(keep)
        .map(|id| (runs.runs[&id].selections.clone(), Some(id)))
        .collect();
    if next.is_empty() {
        return false; // Every trial of the rung failed.
    }
    let bracket = &mut state.brackets[b];
    bracket.rung += 1;
    bracket.size = next.len();
    bracket.queue = next;
    true
}

impl<S: BracketSampler> Brackets<S> {
    /// Starts the next bracket; false when the sampler has nothing new.
    fn start_bracket(&mut self, state: &mut BracketState, ctx: &mut Ctx<'_>) -> bool {
        let k = ctx.ladder.len() - 1;
        let s = k - state.started % (k + 1);
        let n = ((k + 1) as f64 / (s + 1) as f64 * ctx.options.eta.powi(s as i32)).ceil() as usize;
        let fresh = self
            .sampler
            .sample(ctx.space, ctx.runs, ctx.ladder, ctx.rng, n);
        if fresh.is_empty() {
            return false;
        }
        ctx.runs.proposed.extend(fresh.iter().cloned());
        state.brackets.push(Bracket {
            index: state.started,
            rung: k - s,
            size: fresh.len(),
            queue: fresh.into_iter().map(|s| (s, None)).collect(),
        });
        state.started += 1;
        true
    }
}

impl<S: BracketSampler> Schedule for Brackets<S> {
    const NAME: &'static str = S::NAME;
    type Options = S::Options;
    type State = BracketState;

    fn shared(options: &Self::Options) -> &BracketOptions {
        S::shared(options)
    }

    fn new(options: &Self::Options) -> Result<Self> {
        Ok(Brackets {
            sampler: S::new(options)?,
        })
    }

    fn next(&mut self, state: &mut BracketState, mut ctx: Ctx<'_>) -> Option<Start> {
        let top = ctx.ladder.len() - 1;
        let mut b = 0;
        while b < state.brackets.len() {
            if advance(state, b, ctx.runs, top, ctx.options.eta) {
                b += 1;
            } else {
                state.brackets.remove(b);
            }
        }
        let pick = |brackets: &mut Vec<Bracket>| {
            brackets.iter_mut().find_map(|br| {
                br.queue
                    .pop_front()
                    .map(|(selections, from)| (selections, from, br.index, br.rung))
            })
        };
        let mut next = pick(&mut state.brackets);
        if next.is_none() && self.start_bracket(state, &mut ctx) {
            next = pick(&mut state.brackets);
        }
        // Nothing to start now: the host asks again after the next result.
        let (selections, promoted_from, bracket, rung) = next?;
        Some(Start {
            selections,
            rung,
            promoted_from,
            bracket,
        })
    }

    fn fits(state: &BracketState, ladder: &[f64]) -> bool {
        state.brackets.iter().all(|b| b.rung < ladder.len())
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
