//! `LayerChoice`: one of N candidate operations.

use super::{role_of, Builder, Setting};
use crate::{
    error::{Result, SpacesError},
    nn::{scaled, Block, BoxBlock, Ctx, MixInput},
};
use archon_plugin_api::{one_shot::CandidateRole, space::ChoiceKind, Selection};
use tch::{nn, Tensor};

/// One of N candidate operations. Candidate `name` lives under `p / name`, in the
/// supernet and in a child alike, so weights carry over by name.
#[derive(Debug)]
pub struct LayerChoice {
    label: String,
    names: Vec<String>,
    roles: Vec<CandidateRole>,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Supernet(Vec<BoxBlock>),
    Child { index: usize, block: BoxBlock },
}

impl LayerChoice {
    /// Builds the choice `id` (decision `label`) among `names`, hub operations whose
    /// roles [`role_of`] knows; `make(name, path)` builds one candidate.
    pub fn new(
        b: &Builder,
        p: &nn::Path,
        id: &str,
        label: &str,
        names: &[&str],
        make: impl Fn(&str, &nn::Path) -> Result<BoxBlock>,
    ) -> Result<Self> {
        let roles = names.iter().map(|n| role_of(n)).collect();
        Self::with_roles(b, p, id, label, names, roles, make)
    }

    /// The same among operations of the space's own, whose `roles` it declares.
    pub fn with_roles(
        b: &Builder,
        p: &nn::Path,
        id: &str,
        label: &str,
        names: &[&str],
        roles: Vec<CandidateRole>,
        make: impl Fn(&str, &nn::Path) -> Result<BoxBlock>,
    ) -> Result<Self> {
        if roles.len() != names.len() {
            return Err(SpacesError::Config(format!(
                "layer choice {label:?}: {} roles for {} candidates",
                roles.len(),
                names.len()
            )));
        }
        let kind = ChoiceKind::Layer {
            candidates: names.iter().map(|s| s.to_string()).collect(),
        };
        let inner = match b.register(id, label, kind)? {
            None => Inner::Supernet(
                names
                    .iter()
                    .map(|n| make(n, &(p / *n)))
                    .collect::<Result<Vec<_>>>()?,
            ),
            Some(Selection::One(i)) if i < names.len() => Inner::Child {
                index: i,
                block: make(names[i], &(p / names[i]))?,
            },
            Some(other) => {
                return Err(SpacesError::Config(format!(
                    "layer choice {label:?}: selection {other:?} is not one of its {} candidates",
                    names.len()
                )))
            }
        };
        b.set_roles(id, roles.clone());
        let prefix = |n: &&str| (p / *n).components().collect::<Vec<_>>().join(".");
        b.set_candidate_weights(id, names.iter().map(prefix).collect());
        Ok(LayerChoice {
            label: label.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
            roles,
            inner,
        })
    }
}

impl LayerChoice {
    /// In a child: the name of the chosen candidate.
    pub fn child_candidate(&self) -> Option<&str> {
        match &self.inner {
            Inner::Child { index, .. } => Some(&self.names[*index]),
            Inner::Supernet(_) => None,
        }
    }
}

impl Block for LayerChoice {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let candidates = match &self.inner {
            Inner::Child { block, .. } => return block.forward(xs, ctx),
            Inner::Supernet(c) => c,
        };
        // Candidates share the input's ReLU, and fold their weights into a final
        // batch norm where they have one (see `Block::forward_mixed`).
        let input = MixInput::new(xs);
        // A candidate under dropout (P-DARTS's skip-connect) is computed unscaled,
        // dropped out, then weighted.
        let run = |i: usize, weight: Option<&Tensor>| -> Result<Tensor> {
            let p = if ctx.train {
                ctx.settings().dropout(self.roles[i])
            } else {
                0.0
            };
            if p > 0.0 {
                let y = candidates[i]
                    .forward_mixed(&input, None, ctx)?
                    .dropout(p, true);
                Ok(scaled(y, weight))
            } else {
                candidates[i].forward_mixed(&input, weight, ctx)
            }
        };
        match ctx.settings().expect(&self.label) {
            Setting::Fixed(indices) => {
                let mut outs = indices.iter().map(|&i| run(i, None));
                let first = outs.next().expect("settings are validated non-empty")?;
                outs.try_fold(first, |acc, y| Ok(acc + y?))
            }
            Setting::Weighted { indices, weights } => {
                // The none op adds nothing (and its weight's gradient is zero): skip it.
                let mut sum: Option<Tensor> = None;
                for (k, &i) in indices.iter().enumerate() {
                    if self.roles[i] == CandidateRole::Zero {
                        continue;
                    }
                    let y = run(i, Some(&weights.get(k as i64)))?;
                    sum = Some(match sum {
                        Some(acc) => acc + y,
                        None => y,
                    });
                }
                match sum {
                    Some(sum) => Ok(sum),
                    // Only none ops are active: zeros of the right shape, tied to the weights.
                    None => {
                        Ok(candidates[indices[0]].forward(xs, ctx)? * weights.sum(weights.kind()))
                    }
                }
            }
        }
    }
}
