//! Data-parallel training passes of a supernet (see [`crate::parallel`]): the batch
//! split across replicas sharing its weights, one thread each.

use super::Supernet;
use crate::{
    error::Result,
    hub::{SpaceConfig, SpaceFamily},
    parallel::{self, Job, TiedWeights},
};
use archon_plugin_api::one_shot::{pass_on_gradients, Grads, StepOutput};
use tch::Tensor;

/// One replica's share of a pass: its loss (already scaled by its share of the
/// batch), its logits (detached) and the gradients of its mixture leaves.
type Part = (f64, Tensor, Vec<Tensor>);

/// Forward, scaled cross-entropy and backward of one part of a batch on `net`.
fn pass(
    net: &Supernet,
    xs: &Tensor,
    ys: &Tensor,
    scale: f64,
    leaves: &[Tensor],
    weights: bool,
) -> Result<Part> {
    let logits = net.forward(xs, true)?;
    let loss = logits.cross_entropy_for_logits(ys) * scale;
    let leaf_grads = if weights {
        loss.backward();
        leaves.iter().map(Tensor::grad).collect()
    } else if !leaves.is_empty() {
        Tensor::run_backward(&[&loss], leaves, false, false)
    } else {
        Vec::new()
    };
    Ok((loss.double_value(&[]), logits.detach(), leaf_grads))
}

impl Supernet {
    /// Splits [`Self::forward_backward`] passes across `n` replicas (1: none), built
    /// from `family` and `cfg` — the ones this supernet was built with — and sharing
    /// its weights.
    pub fn set_replicas(
        &mut self,
        family: &dyn SpaceFamily,
        cfg: &SpaceConfig,
        n: usize,
    ) -> Result<()> {
        self.replicas.clear();
        for _ in 1..n.max(1) {
            let replica = Supernet::build(family, cfg, self.vs.device())?;
            let tied = TiedWeights::tie(&self.vs, &replica.vs)?;
            self.replicas.push((replica, tied));
        }
        Ok(())
    }

    /// How many replicas a pass is split across (1: this supernet alone).
    pub fn replicas(&self) -> usize {
        self.replicas.len() + 1
    }

    /// One training pass over `xs` with labels `ys` under the current settings:
    /// forward, mean cross-entropy, and backward into the gradients `grads` names
    /// (accumulated: the weights' `grad`, and through the `Weighted` settings' weights
    /// into whatever made them). Split across the replicas, each part on its own
    /// thread. Returns the loss and the logits (detached).
    pub fn forward_backward(
        &mut self,
        xs: &Tensor,
        ys: &Tensor,
        grads: Grads,
    ) -> Result<StepOutput> {
        let mixture = if grads.mixture {
            self.settings.weighted_with_grad()
        } else {
            Vec::new()
        };
        let labels: Vec<String> = mixture.iter().map(|(l, _)| l.clone()).collect();
        let (own, own_leaves) = self.settings.detached(&labels);
        let saved = std::mem::replace(&mut self.settings, own);
        let mut replicas = std::mem::take(&mut self.replicas);
        let mut leaves = vec![own_leaves];
        for (replica, _) in &mut replicas {
            let (settings, replica_leaves) = saved.detached(&labels);
            replica.settings = settings;
            leaves.push(replica_leaves);
        }
        let outcome = self.run_parts(&mut replicas, xs, ys, &leaves, grads.weights);
        self.settings = saved;
        self.replicas = replicas;
        let parts = outcome?;
        if grads.weights {
            for (_, tied) in &self.replicas {
                tied.reduce_grads();
            }
        }
        // The mixture leaves' gradients, summed over the parts, go on through the
        // graph that made the weights.
        let sums: Vec<(&Tensor, Tensor)> = mixture
            .iter()
            .enumerate()
            .filter_map(|(k, (_, w))| {
                let g = parts.iter().map(|p| &p.2[k]).filter(|g| g.defined()).fold(
                    None::<Tensor>,
                    |acc, g| {
                        Some(match acc {
                            Some(a) => a + g,
                            None => g.shallow_clone(),
                        })
                    },
                )?;
                Some((w, g))
            })
            .collect();
        pass_on_gradients(sums.iter().map(|(w, g)| (*w, g)));
        let logits: Vec<Tensor> = parts.iter().map(|p| p.1.shallow_clone()).collect();
        Ok(StepOutput {
            loss: parts.iter().map(|p| p.0).sum(),
            logits: Tensor::cat(&logits, 0),
        })
    }

    /// Runs the parts of a pass: the first on this supernet, on this thread; the others
    /// on `replicas`, a thread each.
    fn run_parts(
        &self,
        replicas: &mut [(Supernet, TiedWeights)],
        xs: &Tensor,
        ys: &Tensor,
        leaves: &[Vec<Tensor>],
        weights: bool,
    ) -> Result<Vec<Part>> {
        let n = xs.size()[0];
        let parts = parallel::split(n, replicas.len() + 1);
        let share = |(start, len): (i64, i64)| {
            (
                xs.narrow(0, start, len),
                ys.narrow(0, start, len),
                len as f64 / n.max(1) as f64,
            )
        };
        let mut jobs: Vec<Job<'_, Part>> = Vec::with_capacity(replicas.len());
        for (k, (replica, _)) in replicas.iter_mut().enumerate().take(parts.len() - 1) {
            let (x, y, scale) = share(parts[k + 1]);
            let part_leaves: Vec<Tensor> =
                leaves[k + 1].iter().map(Tensor::shallow_clone).collect();
            jobs.push(Box::new(move || {
                pass(replica, &x, &y, scale, &part_leaves, weights)
            }));
        }
        let (x, y, scale) = share(parts[0]);
        parallel::run_parallel(|| pass(self, &x, &y, scale, &leaves[0], weights), jobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{choice::Setting, hub};
    use archon_plugin_api::{space::ChoiceKind, Options};
    use tch::{Device, Kind};

    /// A small DARTS supernet, every layer choice a softmax mixture of its α, the
    /// α leaves returned; with the weights and α of `like` (tests share the global
    /// random generator, so two builds from one seed may differ).
    fn supernet(
        replicas: usize,
        like: Option<&(Supernet, Vec<Tensor>)>,
    ) -> (Supernet, Vec<Tensor>) {
        let cfg = SpaceConfig {
            image_size: 12,
            options: Options::from_json_str(r#"{"width": 4, "cells": 2, "nodes": 2}"#).unwrap(),
            ..SpaceConfig::default()
        };
        let family = hub::space("darts").unwrap();
        let mut s = Supernet::build(family, &cfg, Device::Cpu).unwrap();
        if let Some((other, _)) = like {
            s.var_store_mut().copy(other.var_store()).unwrap();
        }
        let mut alphas = Vec::new();
        let mut points = s.choices().to_vec();
        points.dedup_by(|a, b| a.label == b.label);
        points.sort_by(|a, b| a.label.cmp(&b.label));
        points.dedup_by(|a, b| a.label == b.label);
        for p in points {
            let n = p.num_candidates();
            let setting = match p.kind {
                ChoiceKind::Input { .. } => Setting::Fixed((0..n).collect()),
                _ => {
                    let alpha = match like {
                        Some((_, theirs)) => theirs[alphas.len()].detach().copy(),
                        None => Tensor::randn([n as i64], (Kind::Float, Device::Cpu)) * 0.1,
                    }
                    .set_requires_grad(true);
                    let weights = alpha.softmax(0, Kind::Float);
                    alphas.push(alpha);
                    Setting::Weighted {
                        indices: (0..n).collect(),
                        weights,
                    }
                }
            };
            s.set(&p.label, setting).unwrap();
        }
        // Last: building the replicas draws random initial weights (then replaced).
        s.set_replicas(family, &cfg, replicas).unwrap();
        (s, alphas)
    }

    fn grads(s: &Supernet, alphas: &[Tensor]) -> Vec<Tensor> {
        let mut names: Vec<(String, Tensor)> = s.var_store().variables().into_iter().collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        names
            .iter()
            .filter(|(_, t)| t.requires_grad())
            .map(|(_, t)| t.grad().copy())
            .chain(alphas.iter().map(|a| a.grad().copy()))
            .collect()
    }

    #[test]
    fn a_split_pass_gives_the_mean_of_its_parts_gradients() {
        let xs = Tensor::randn([8, 1, 12, 12], (Kind::Float, Device::Cpu));
        let ys = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 5, 6, 7]);
        let both = Grads {
            weights: true,
            mixture: true,
        };
        // One network, each half on its own.
        let reference = supernet(1, None);
        let (mut one, alphas) = supernet(1, Some(&reference));
        let first = one
            .forward_backward(&xs.narrow(0, 0, 4), &ys.narrow(0, 0, 4), both)
            .unwrap();
        let a = grads(&one, &alphas);
        let (mut one, alphas) = supernet(1, Some(&reference));
        let second = one
            .forward_backward(&xs.narrow(0, 4, 4), &ys.narrow(0, 4, 4), both)
            .unwrap();
        let b = grads(&one, &alphas);
        // Two replicas, the whole batch: each takes one half on its own thread.
        let (mut two, alphas) = supernet(2, Some(&reference));
        assert_eq!(two.replicas(), 2);
        let out = two.forward_backward(&xs, &ys, both).unwrap();
        let split = grads(&two, &alphas);
        assert!((out.loss - (first.loss + second.loss) / 2.0).abs() < 1e-5);
        assert_eq!(out.logits.size(), [8, 10]);
        assert!(!out.logits.requires_grad());
        assert_eq!(split.len(), a.len());
        assert!(alphas.iter().all(|a| a.grad().defined()));
        for (k, g) in split.iter().enumerate() {
            let want = (&a[k] + &b[k]) / 2.0;
            let err = (g - &want).abs().max().double_value(&[]);
            let scale = want.abs().max().double_value(&[]).max(1e-3);
            assert!(
                err / scale < 1e-4,
                "gradient {k}: off by {err} (scale {scale})"
            );
        }
        // The replica's own gradients were handed over and cleared.
        let replica = &two.replicas[0].0;
        assert!(replica
            .var_store()
            .trainable_variables()
            .iter()
            .all(|t| !t.grad().defined() || t.grad().abs().max().double_value(&[]) == 0.0));
        // The settings are the trainer's again: a plain pass runs.
        assert_eq!(two.forward(&xs, true).unwrap().size(), [8, 10]);
    }

    #[test]
    fn mixture_only_leaves_the_weights_alone() {
        let xs = Tensor::randn([8, 1, 12, 12], (Kind::Float, Device::Cpu));
        let ys = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 5, 6, 7]);
        let (mut two, alphas) = supernet(2, None);
        two.forward_backward(&xs, &ys, Grads::MIXTURE).unwrap();
        assert!(two
            .var_store()
            .trainable_variables()
            .iter()
            .all(|t| !t.grad().defined()));
        assert!(alphas
            .iter()
            .all(|a| a.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0));
    }
}
