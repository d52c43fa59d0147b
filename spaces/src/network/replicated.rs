//! Data-parallel training passes of a supernet (see [`crate::parallel`]): the batch
//! split across replicas sharing its weights, one thread each.

use super::Supernet;
use crate::{
    error::Result,
    hub::{SpaceConfig, SpaceFamily},
    parallel::{self, Job, TiedWeights},
};
use archon_plugin_api::one_shot::{Grads, StepOutput};
use tch::{Kind, Tensor};

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
    pub fn forward_backward(&mut self, xs: &Tensor, ys: &Tensor, grads: Grads) -> Result<StepOutput> {
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
        // graph that made the weights: one backward pass through Σ w · g.
        let surrogate = mixture
            .iter()
            .enumerate()
            .filter_map(|(k, (_, w))| {
                let g = parts
                    .iter()
                    .map(|p| &p.2[k])
                    .filter(|g| g.defined())
                    .fold(None::<Tensor>, |acc, g| {
                        Some(match acc {
                            Some(a) => a + g,
                            None => g.shallow_clone(),
                        })
                    })?;
                Some((w * g).sum(Kind::Float))
            })
            .reduce(|a, b| a + b);
        if let Some(surrogate) = surrogate {
            surrogate.backward();
        }
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
            let part_leaves: Vec<Tensor> = leaves[k + 1].iter().map(Tensor::shallow_clone).collect();
            jobs.push(Box::new(move || {
                pass(replica, &x, &y, scale, &part_leaves, weights)
            }));
        }
        let (x, y, scale) = share(parts[0]);
        parallel::run_parallel(|| pass(self, &x, &y, scale, &leaves[0], weights), jobs)
    }
}
