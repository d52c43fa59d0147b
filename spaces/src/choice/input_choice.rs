//! `InputChoice`: k of N inputs, reduced by sum, mean or concatenation.

use super::{Builder, Setting};
use crate::error::{Result, SpacesError};
use crate::nn::Ctx;
use archon_plugin_api::{space::ChoiceKind, Selection};
use tch::Tensor;

/// How chosen inputs are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// Element-wise sum.
    Sum,
    /// Element-wise mean.
    Mean,
    /// Concatenation along channels.
    Concat,
}

/// Chooses `n_chosen` of N inputs (any number when `None`). The caller asks which
/// inputs are [`active`](Self::active), computes only those, then [`reduce`](Self::reduce)s.
#[derive(Debug)]
pub struct InputChoice {
    label: String,
    reduction: Reduction,
    child: Option<Vec<usize>>,
}

impl InputChoice {
    /// Builds the choice `id` (decision `label`) over inputs named `candidates`.
    pub fn new(
        b: &Builder,
        id: &str,
        label: &str,
        candidates: &[String],
        n_chosen: Option<usize>,
        reduction: Reduction,
    ) -> Result<Self> {
        let kind = ChoiceKind::Input {
            candidates: candidates.to_vec(),
            n_chosen,
        };
        let child = match b.register(id, label, kind)? {
            None => None,
            Some(Selection::Many(v)) if v.iter().all(|&i| i < candidates.len()) && n_chosen.is_none_or(|k| k == v.len()) => Some(v),
            Some(other) => {
                return Err(SpacesError::Config(format!(
                    "input choice {label:?}: selection {other:?} does not fit {} candidates with n_chosen {n_chosen:?}",
                    candidates.len()
                )))
            }
        };
        Ok(InputChoice {
            label: label.into(),
            reduction,
            child,
        })
    }

    /// In a child: the chosen inputs (a child computes only these).
    pub fn child_selection(&self) -> Option<&[usize]> {
        self.child.as_deref()
    }

    /// The inputs to compute, and their weights for a weighted setting.
    pub fn active(&self, ctx: &Ctx) -> (Vec<usize>, Option<Tensor>) {
        if let Some(chosen) = &self.child {
            return (chosen.clone(), None);
        }
        match ctx.settings().expect(&self.label) {
            Setting::Fixed(indices) => (indices.clone(), None),
            Setting::Weighted { indices, weights } => {
                (indices.clone(), Some(weights.shallow_clone()))
            }
        }
    }

    /// Combines the active inputs (in the order `active` gave them); `None` when no
    /// input is chosen.
    pub fn reduce(&self, inputs: Vec<Tensor>, weights: Option<&Tensor>) -> Option<Tensor> {
        let inputs: Vec<Tensor> = match weights {
            Some(w) => inputs
                .into_iter()
                .enumerate()
                .map(|(k, x)| x * w.get(k as i64))
                .collect(),
            None => inputs,
        };
        let n = inputs.len();
        if n == 0 {
            return None;
        }
        Some(match self.reduction {
            Reduction::Concat => Tensor::cat(&inputs, 1),
            Reduction::Sum | Reduction::Mean => {
                let mut it = inputs.into_iter();
                let first = it.next().expect("n > 0");
                let sum = it.fold(first, |acc, x| acc + x);
                if self.reduction == Reduction::Mean {
                    sum / n as f64
                } else {
                    sum
                }
            }
        })
    }
}
