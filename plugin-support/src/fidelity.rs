//! What multi-fidelity tuners (ASHA, Hyperband) share: the budget ladder, the trials
//! with their rungs and losses, and the JSON that tells the host a trial's budget.

use crate::SeededRng;
use archon_plugin_api::{OptimizeMode, PluginError, Result, SearchSpace, Selection};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The budgets of the rungs: `min`, `min·η`, `min·η²`, … below `max`, then `max`.
pub fn ladder(min: f64, max: f64, eta: f64) -> Result<Vec<f64>> {
    if !(min > 0.0 && max >= min && min.is_finite() && max.is_finite()) {
        return Err(PluginError::invalid_input(format!(
            "budgets: need 0 < min_budget ≤ max_budget, found min_budget = {min}, max_budget = {max}"
        )));
    }
    if !(eta > 1.0 && eta.is_finite()) {
        return Err(PluginError::invalid_input(format!(
            "eta must be a number above 1, found {eta}"
        )));
    }
    let mut out = Vec::new();
    let mut b = min;
    while b < max * (1.0 - 1e-9) {
        out.push(b);
        b *= eta;
    }
    out.push(max);
    Ok(out)
}

/// One trial of a multi-fidelity schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The architecture.
    pub selections: Vec<Selection>,
    /// Its rung (index into the ladder).
    pub rung: usize,
    /// The trial whose architecture this one continues at a higher budget.
    pub promoted_from: Option<u64>,
    /// Its loss (smaller is better), once known.
    pub loss: Option<f64>,
    /// Whether it has ended (with or without a result).
    pub ended: bool,
    /// Whether it was promoted to the next rung already.
    pub promoted: bool,
    /// Its bracket (Hyperband) or 0.
    pub bracket: usize,
}

/// The trials of a schedule and the architectures proposed at the bottom.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Runs {
    /// Every trial by id.
    pub runs: BTreeMap<u64, Run>,
    /// Architectures started at their bracket's first rung (never started twice).
    pub proposed: HashSet<Vec<Selection>>,
}

impl Runs {
    /// A new architecture at random (never proposed before), or `None` when a finite
    /// space has none left.
    pub fn fresh(&mut self, space: &SearchSpace, rng: &mut SeededRng) -> Option<Vec<Selection>> {
        let s = space.sample_unseen(&self.proposed, &mut |n| rng.below(n))?;
        self.proposed.insert(s.clone());
        Some(s)
    }

    /// Records a result as a loss (NaN and infinities count as no result).
    pub fn receive(&mut self, id: u64, value: f64, mode: OptimizeMode) {
        if let Some(run) = self.runs.get_mut(&id) {
            run.loss = value.is_finite().then_some(match mode {
                OptimizeMode::Maximize => -value,
                OptimizeMode::Minimize => value,
            });
        }
    }

    /// Marks a trial ended.
    pub fn end(&mut self, id: u64) {
        if let Some(run) = self.runs.get_mut(&id) {
            run.ended = true;
        }
    }

    /// The ids of `bracket`'s trials at `rung` with a result, best first.
    pub fn ranked(&self, bracket: usize, rung: usize) -> Vec<u64> {
        let mut done: Vec<(u64, f64)> = self
            .runs
            .iter()
            .filter(|(_, r)| r.bracket == bracket && r.rung == rung)
            .filter_map(|(id, r)| r.loss.map(|l| (*id, l)))
            .collect();
        done.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        done.into_iter().map(|(id, _)| id).collect()
    }

    /// The host's info on trial `id`: its budget, rung, bracket and origin.
    pub fn info(&self, id: u64, ladder: &[f64]) -> Option<Value> {
        let run = self.runs.get(&id)?;
        let mut info = serde_json::json!({
            "budget": ladder[run.rung],
            "rung": run.rung,
            "bracket": run.bracket,
        });
        if let Some(from) = run.promoted_from {
            info["promoted_from"] = Value::from(from);
        }
        Some(info)
    }

    /// Checks that every stored architecture fits `space` and every rung `ladder`.
    pub fn check_fits(&self, space: &SearchSpace, ladder: &[f64], plugin: &str) -> Result<()> {
        let fits = self.runs.values().all(|r| {
            r.rung < ladder.len()
                && archon_plugin_api::Architecture::new(space, r.selections.clone()).is_ok()
        }) && self
            .proposed
            .iter()
            .all(|s| archon_plugin_api::Architecture::new(space, s.clone()).is_ok());
        if fits {
            Ok(())
        } else {
            Err(PluginError::invalid_input(format!(
                "saved state: the {plugin} state does not fit the current search space and budgets (was it saved for another experiment?)"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_multiplies_by_eta_and_ends_at_the_maximum() {
        assert_eq!(ladder(1.0, 27.0, 3.0).unwrap(), [1.0, 3.0, 9.0, 27.0]);
        assert_eq!(ladder(1.0, 6.0, 3.0).unwrap(), [1.0, 3.0, 6.0]);
        assert_eq!(ladder(2.0, 2.0, 3.0).unwrap(), [2.0]);
        assert!(ladder(0.0, 6.0, 3.0)
            .unwrap_err()
            .message()
            .contains("0 < min_budget"));
        assert!(ladder(1.0, 6.0, 1.0)
            .unwrap_err()
            .message()
            .contains("eta must be"));
    }
}
