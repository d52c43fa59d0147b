//! The DARTS updates (Liu et al. 2019, Algorithm 1): an architecture step on a
//! validation batch — first order, or second order with the finite-difference
//! Hessian-vector product of eq. (8) — and a weight step on a training batch.

use super::{ArchParams, Mixture};
use archon_plugin_api::{
    one_shot::{Batch, Grads, NetId, SupernetContext},
    tch::{Kind, Tensor},
    Result,
};
use std::collections::BTreeMap;

/// Mean cross-entropy of `logits` `[N, classes]` against `labels` `[N]`.
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Tensor {
    logits.cross_entropy_for_logits(labels)
}

/// Top-1 accuracy of `logits` against `labels`.
pub fn accuracy(logits: &Tensor, labels: &Tensor) -> f64 {
    logits
        .argmax(-1, false)
        .eq_tensor(labels)
        .to_kind(Kind::Float)
        .mean(Kind::Float)
        .double_value(&[])
}

/// Running means of step metrics over an epoch.
#[derive(Debug, Default, Clone)]
pub struct StepMeter {
    sums: BTreeMap<String, (f64, usize)>,
}

impl StepMeter {
    /// Adds one value of `key`.
    pub fn add(&mut self, key: &str, value: f64) {
        let e = self.sums.entry(key.to_string()).or_default();
        e.0 += value;
        e.1 += 1;
    }

    /// The means so far.
    pub fn means(&self) -> BTreeMap<String, f64> {
        self.sums
            .iter()
            .map(|(k, (s, n))| (k.clone(), s / (*n).max(1) as f64))
            .collect()
    }
}

fn loss_with(
    ctx: &mut SupernetContext<'_>,
    net: NetId,
    params: &ArchParams,
    mixture: Mixture,
    batch: &Batch,
) -> Result<(Tensor, Tensor)> {
    params.apply(ctx, net, mixture)?;
    let logits = ctx.forward(net, &batch.inputs)?;
    Ok((cross_entropy(&logits, &batch.labels), logits))
}

/// First-order architecture step: α ← Adam(∇α L_val(w, α)), with the choices mixed
/// as `mixture` says (a softmax keeps its graph to α). Only α's gradients are computed
/// (weights get none). Returns (loss, accuracy) on the batch.
pub fn arch_step_first_order(
    ctx: &mut SupernetContext<'_>,
    net: NetId,
    params: &mut ArchParams,
    mixture: Mixture,
    valid: &Batch,
) -> Result<(f64, f64)> {
    let mixture = match mixture {
        Mixture::Softmax { .. } => Mixture::Softmax { grad: true },
        other => other,
    };
    params.apply(ctx, net, mixture)?;
    params.zero_grad();
    let out = ctx.forward_backward(net, valid, Grads::MIXTURE)?;
    params.step();
    Ok((out.loss, accuracy(&out.logits, &valid.labels)))
}

fn norm(tensors: &[Tensor]) -> f64 {
    tensors
        .iter()
        .filter(|t| t.defined())
        .map(|t| t.square().sum(Kind::Double).double_value(&[]))
        .sum::<f64>()
        .sqrt()
}

fn assign(weights: &[Tensor], values: &[Tensor]) {
    archon_plugin_api::tch::no_grad(|| {
        for (w, v) in weights.iter().zip(values) {
            w.shallow_clone().copy_(v);
        }
    });
}

/// First-order DARTS step then the weight step, with softmax mixtures: α on
/// `valid`, then the weights on `train`. Returns (loss, accuracy) on each.
pub fn first_order_steps(
    ctx: &mut SupernetContext<'_>,
    net: NetId,
    params: &mut ArchParams,
    train: &Batch,
    valid: &Batch,
) -> Result<[(f64, f64); 2]> {
    let arch = arch_step_first_order(ctx, net, params, Mixture::Softmax { grad: true }, valid)?;
    let weights = weight_step(ctx, net, params, Mixture::Softmax { grad: false }, train)?;
    Ok([arch, weights])
}

/// Second-order DARTS step (eq. 6–8), then the weight step. The architecture step:
/// w' = w − ξ(∇w L_train(w, α) + λw) (a virtual step; λ the weight decay),
/// ∇α = ∇α L_val(w', α) − ξ · [∇α L_train(w⁺, α) − ∇α L_train(w⁻, α)] / 2ε
/// with w± = w ± ε ∇w' L_val(w', α), ε = 0.01 / ‖∇w' L_val‖. ξ is the current weight
/// learning rate; the weights are restored afterwards. Then the weight step on the same
/// training batch: with `reuse_gradient`, the virtual step's ∇w L_train(w, α) (taken
/// before α moved by its one step) is the one the host's optimizer applies — four
/// forward+backward passes instead of five; without, a fresh forward and backward at
/// the updated α, as the paper's Algorithm 1. Returns (loss, accuracy) on the
/// validation batch and on the training batch.
#[allow(clippy::too_many_arguments)]
pub fn second_order_steps(
    ctx: &mut SupernetContext<'_>,
    net: NetId,
    params: &mut ArchParams,
    train: &Batch,
    valid: &Batch,
    weight_decay: f64,
    reuse_gradient: bool,
) -> Result<[(f64, f64); 2]> {
    let xi = ctx.weight_lr(net);
    let weights = ctx.weights(net)?;
    let original: Vec<Tensor> = weights.iter().map(|w| w.detach().copy()).collect();
    let frozen = Mixture::Softmax { grad: false };

    // The virtual step (its gradient left in the weights' `grad` when reused).
    let (loss, train_logits) = loss_with(ctx, net, params, frozen, train)?;
    let dw = if reuse_gradient {
        ctx.zero_grad(net)?;
        loss.backward();
        weights.iter().map(Tensor::grad).collect()
    } else {
        Tensor::run_backward(&[&loss], &weights, false, false)
    };
    let train_result = (
        loss.double_value(&[]),
        accuracy(&train_logits, &train.labels),
    );
    let virtual_weights: Vec<Tensor> = original
        .iter()
        .zip(&dw)
        .map(|(w, g)| {
            let g = if g.defined() {
                g.shallow_clone()
            } else {
                w.zeros_like()
            };
            w - (g + w * weight_decay) * xi
        })
        .collect();
    assign(&weights, &virtual_weights);

    // ∇α and ∇w' of the validation loss at w'.
    let (val_loss, logits) = loss_with(ctx, net, params, Mixture::Softmax { grad: true }, valid)?;
    let mut inputs: Vec<Tensor> = params
        .parameters()
        .iter()
        .map(Tensor::shallow_clone)
        .collect();
    let n_alpha = inputs.len();
    inputs.extend(weights.iter().map(Tensor::shallow_clone));
    let grads = Tensor::run_backward(&[&val_loss], &inputs, false, false);
    let (d_alpha, d_weights) = grads.split_at(n_alpha);
    let eps = 0.01 / norm(d_weights).max(1e-12);

    // Finite-difference Hessian-vector product (gradients for α only).
    let mut hessian: Vec<Vec<Tensor>> = Vec::with_capacity(2);
    for sign in [1.0, -1.0] {
        let shifted: Vec<Tensor> = original
            .iter()
            .zip(d_weights)
            .map(|(w, d)| {
                if d.defined() {
                    w + d * (sign * eps)
                } else {
                    w.shallow_clone()
                }
            })
            .collect();
        assign(&weights, &shifted);
        let (loss, _) = loss_with(ctx, net, params, Mixture::Softmax { grad: true }, train)?;
        hessian.push(Tensor::run_backward(
            &[&loss],
            params.parameters(),
            false,
            false,
        ));
    }
    assign(&weights, &original);
    let total: Vec<Tensor> = d_alpha
        .iter()
        .zip(hessian[0].iter().zip(&hessian[1]))
        .map(|(g, (hp, hm))| {
            if !g.defined() {
                return g.shallow_clone();
            }
            let h = if hp.defined() && hm.defined() {
                (hp - hm) / (2.0 * eps)
            } else {
                g.zeros_like()
            };
            g - h * xi
        })
        .collect();
    params.set_grads(&total);
    params.step();
    let arch_result = (val_loss.double_value(&[]), accuracy(&logits, &valid.labels));

    let weight_result = if reuse_gradient {
        // The weights are w again and their `grad` is still ∇w L_train(w, α).
        ctx.weight_step(net)?;
        train_result
    } else {
        weight_step(ctx, net, params, frozen, train)?
    };
    Ok([arch_result, weight_result])
}

/// Weight step: w ← SGD(∇w L_train(w, α)) with `mixture` setting the choices (α gets
/// no gradient). Returns (loss, accuracy) on the batch.
pub fn weight_step(
    ctx: &mut SupernetContext<'_>,
    net: NetId,
    params: &ArchParams,
    mixture: Mixture,
    train: &Batch,
) -> Result<(f64, f64)> {
    let mixture = match mixture {
        Mixture::Softmax { .. } => Mixture::Softmax { grad: false },
        other => other,
    };
    params.apply(ctx, net, mixture)?;
    train_step(ctx, net, train)
}

/// One weight step of `net` on the path(s) its choices are set to: the cross-entropy
/// of `batch`, backward, the host's optimizer step (gradients zeroed first). The
/// single-path trainers (ENAS, TextNAS, SPOS, ProxylessNAS's weight steps, CDARTS's
/// evaluation network) all train this way. Returns (loss, accuracy) on the batch.
pub fn train_step(ctx: &mut SupernetContext<'_>, net: NetId, batch: &Batch) -> Result<(f64, f64)> {
    ctx.zero_grad(net)?;
    let out = ctx.forward_backward(net, batch, Grads::WEIGHTS)?;
    ctx.weight_step(net)?;
    Ok((out.loss, accuracy(&out.logits, &batch.labels)))
}
