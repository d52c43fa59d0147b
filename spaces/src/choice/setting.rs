//! Settings: how an algorithm drives each choice of a supernet.

use super::ChoicePoint;
use crate::error::{Result, SpacesError};
/// How one choice (label) is driven: plugin-api's type, the one that crosses the
/// one-shot ABI, so a trainer's settings reach the supernet unchanged.
pub use archon_plugin_api::one_shot::Setting;
use archon_plugin_api::{one_shot::CandidateRole, space::ChoiceKind, Architecture, SearchSpace};
use std::collections::HashMap;
use tch::Tensor;

/// The current setting of every choice label of a supernet.
#[derive(Debug, Default)]
pub struct Settings {
    by_label: HashMap<String, Setting>,
    /// Dropout after every candidate of this role (training passes only).
    dropout: Option<(CandidateRole, f64)>,
}

impl Settings {
    /// The setting of `label`.
    pub fn get(&self, label: &str) -> Option<&Setting> {
        self.by_label.get(label)
    }

    /// The setting of `label`; a supernet checks that every label is set before a
    /// forward pass, so a missing one here is a bug in the caller.
    pub(crate) fn expect(&self, label: &str) -> &Setting {
        self.by_label.get(label).unwrap_or_else(|| {
            panic!("choice {label:?} has no setting (Supernet::forward checks this)")
        })
    }

    /// Sets `label`, after checking the setting against its choice point.
    pub fn set(&mut self, point: &ChoicePoint, setting: Setting) -> Result<()> {
        let n = point.num_candidates();
        let label = &point.label;
        let indices = setting.indices();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(SpacesError::Config(format!(
                "setting for {label:?}: candidate {bad} out of range (it has {n})"
            )));
        }
        let mut sorted = indices.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != indices.len() {
            return Err(SpacesError::Config(format!(
                "setting for {label:?}: a candidate appears twice in {indices:?}"
            )));
        }
        let single = !matches!(point.kind, ChoiceKind::Input { .. });
        if indices.is_empty() && single {
            return Err(SpacesError::Config(format!(
                "setting for {label:?}: a layer or value choice needs at least one candidate"
            )));
        }
        if let Setting::Fixed(i) = &setting {
            if i.len() > 1 && matches!(point.kind, ChoiceKind::Value { .. }) {
                return Err(SpacesError::Config(format!(
                    "setting for {label:?}: a value choice takes one fixed value, not {i:?}"
                )));
            }
        }
        if let Setting::Weighted { weights, .. } = &setting {
            if weights.size() != [indices.len() as i64] {
                return Err(SpacesError::Config(format!(
                    "setting for {label:?}: weights of shape {:?} for {} candidates (expected [{}])",
                    weights.size(),
                    indices.len(),
                    indices.len()
                )));
            }
        }
        self.by_label.insert(label.clone(), setting);
        Ok(())
    }

    /// Dropout with probability `p` after every candidate of `role` in training
    /// passes (P-DARTS on skip-connects); `p = 0` turns it off.
    pub fn set_dropout(&mut self, role: CandidateRole, p: f64) {
        self.dropout = (p > 0.0).then_some((role, p));
    }

    /// Takes over `other`'s dropout.
    pub fn dropout_from(&mut self, other: &Settings) {
        self.dropout = other.dropout;
    }

    /// The dropout probability after candidates of `role`.
    pub fn dropout(&self, role: CandidateRole) -> f64 {
        match self.dropout {
            Some((r, p)) if r == role => p,
            _ => 0.0,
        }
    }

    /// The labels whose mixture weights carry a gradient back to what made them.
    pub(crate) fn weighted_with_grad(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self
            .by_label
            .iter()
            .filter_map(|(label, s)| match s {
                Setting::Weighted { weights, .. } if weights.requires_grad() => {
                    Some((label.clone(), weights.shallow_clone()))
                }
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// A copy whose mixture weights are cut from the graph that made them (so another
    /// thread can run a pass with them): the labels in `leaves` get fresh leaves that
    /// require a gradient, returned in that order; the others plain detached tensors.
    pub(crate) fn detached(&self, leaves: &[String]) -> (Settings, Vec<Tensor>) {
        let mut out = Vec::with_capacity(leaves.len());
        let by_label = self
            .by_label
            .iter()
            .map(|(label, s)| {
                let copy = match s {
                    Setting::Fixed(i) => Setting::Fixed(i.clone()),
                    Setting::Weighted { indices, weights } => Setting::Weighted {
                        indices: indices.clone(),
                        weights: weights.detach(),
                    },
                };
                (label.clone(), copy)
            })
            .collect::<HashMap<_, _>>();
        let mut settings = Settings {
            by_label,
            dropout: self.dropout,
        };
        for label in leaves {
            if let Some(Setting::Weighted { weights, .. }) = settings.by_label.get_mut(label) {
                *weights = weights.detach().set_requires_grad(true);
                out.push(weights.shallow_clone());
            }
        }
        (settings, out)
    }

    /// Labels of `points` that have no setting.
    pub fn missing<'a>(&self, points: &'a [ChoicePoint]) -> Vec<&'a str> {
        let mut out: Vec<&str> = points
            .iter()
            .filter(|p| !self.by_label.contains_key(&p.label))
            .map(|p| p.label.as_str())
            .collect();
        out.dedup();
        out
    }

    /// `Fixed` settings for every choice from an architecture of `space`.
    pub fn from_architecture(
        points: &[ChoicePoint],
        space: &SearchSpace,
        arch: &Architecture,
    ) -> Result<Self> {
        let mut settings = Settings::default();
        for (choice, selection) in space.choices().iter().zip(arch.selections()) {
            let indices = selection.indices();
            let point = points
                .iter()
                .find(|p| p.label == choice.name())
                .ok_or_else(|| {
                    SpacesError::Config(format!("no choice labelled {:?}", choice.name()))
                })?;
            settings.set(point, Setting::Fixed(indices))?;
        }
        Ok(settings)
    }
}
