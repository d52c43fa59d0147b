//! What a tuner that learns from its whole history remembers of its trials — every
//! result, the proposals still running, everything proposed or reported (never
//! proposed twice) — and its saved state with its generator. Shared by `anneal` and
//! `gp`.

use crate::{check_architectures_fit, load_state, save_state, SeededRng};
use archon_plugin_api::{Architecture, Metric, ParameterId, Result, SearchSpace, Selection};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// A tuner's trials (saved and restored whole).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialBook {
    /// Every finite result: (architecture, metric as reported), in arrival order.
    pub history: Vec<(Vec<Selection>, f64)>,
    /// Proposed, not yet ended.
    pub pending: HashMap<u64, Vec<Selection>>,
    /// Every architecture proposed or reported.
    pub seen: HashSet<Vec<Selection>>,
}

/// The saved state: the generator and the book.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    rng: SeededRng,
    state: TrialBook,
}

impl TrialBook {
    /// Whether every architecture of a finite `space` has been proposed or reported.
    pub fn exhausted(&self, space: &SearchSpace) -> bool {
        space.size().is_some_and(|n| self.seen.len() as u128 >= n)
    }

    /// Records proposal `id` and returns it as an architecture of `space`.
    pub fn propose(
        &mut self,
        space: &SearchSpace,
        id: ParameterId,
        selections: Vec<Selection>,
    ) -> Result<Architecture> {
        self.seen.insert(selections.clone());
        self.pending.insert(id, selections.clone());
        Architecture::new(space, selections)
    }

    /// Proposal `id`: `chosen`, or a random architecture not seen yet when there is
    /// none; `None` when every architecture has been seen.
    pub fn propose_or_random(
        &mut self,
        space: &SearchSpace,
        id: ParameterId,
        chosen: Option<Vec<Selection>>,
        rng: &mut SeededRng,
    ) -> Result<Option<Architecture>> {
        let child = match chosen {
            Some(c) => c,
            None => match space.sample_unseen(&self.seen, &mut |n| rng.below(n)) {
                Some(c) => c,
                None => return Ok(None),
            },
        };
        self.propose(space, id, child).map(Some)
    }

    /// Records a result. A trial this tuner did not propose (the pre-filter's) is
    /// never proposed again either; a non-finite metric is not learnt from.
    pub fn receive(&mut self, id: ParameterId, parameters: &Architecture, metric: &Metric) {
        self.pending.remove(&id);
        let selections = parameters.selections().to_vec();
        self.seen.insert(selections.clone());
        if metric.default.is_finite() {
            self.history.push((selections, metric.default));
        }
    }

    /// Records the end of trial `id`.
    pub fn end(&mut self, id: ParameterId) {
        self.pending.remove(&id);
    }

    /// The saved state of the book and `rng`.
    pub fn save(&self, rng: &SeededRng) -> Result<Value> {
        save_state(&Saved {
            rng: rng.clone(),
            state: self.clone(),
        })
    }

    /// A saved state read back for `space` (its architectures must fit it), naming
    /// `plugin` in errors.
    pub fn load(plugin: &str, space: &SearchSpace, state: &Value) -> Result<(SeededRng, Self)> {
        let saved: Saved = load_state(plugin, state)?;
        check_architectures_fit(
            space,
            saved
                .state
                .seen
                .iter()
                .chain(saved.state.history.iter().map(|(s, _)| s)),
        )?;
        Ok((saved.rng, saved.state))
    }
}
