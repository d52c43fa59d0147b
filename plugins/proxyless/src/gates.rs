//! Binary gates: single-path weight steps, two-path architecture steps with
//! ProxylessNAS's gradient estimator, and the expected-latency model.

use super::LatencyLoss;
use archon_plugin_api::{
    one_shot::{Batch, CostTable, Setting, SupernetContext, SUPERNET},
    tch::{Kind, Tensor},
    Result,
};
use archon_plugin_support::{
    one_shot::{accuracy, cross_entropy, train_step, ArchParams},
    SeededRng,
};
use rand::Rng;

/// A draw from the discrete distribution `p` over `candidates` (weights need not sum
/// to 1).
fn draw(candidates: &[usize], p: &[f64], rng: &mut SeededRng) -> usize {
    let total: f64 = candidates.iter().map(|&i| p[i]).sum();
    let mut u = rng.rng().random::<f64>() * total;
    for &i in candidates {
        if u < p[i] {
            return i;
        }
        u -= p[i];
    }
    *candidates.last().expect("at least one candidate")
}

/// Opens one gate per choice, drawn from softmax(α), and trains the weights on that
/// path. Returns (loss, accuracy).
pub(crate) fn weight_step(
    ctx: &mut SupernetContext<'_>,
    params: &ArchParams,
    rng: &mut SeededRng,
) -> Result<(f64, f64)> {
    for (k, c) in params.choices().iter().enumerate() {
        let setting = if params.mixes(k) {
            Setting::Fixed(vec![draw(params.active(k), &params.probabilities(k), rng)])
        } else {
            Setting::Fixed((0..c.len()).collect())
        };
        ctx.set(SUPERNET, &c.label, setting)?;
    }
    let batch = ctx.next_batch(archon_plugin_api::one_shot::Split::Train)?;
    train_step(ctx, SUPERNET, &batch)
}

/// The expected latency under softmax(α) and the loss built on it.
pub(crate) struct LatencyModel {
    reference: f64,
    /// Per choice (in α's order), the latency each candidate adds, if measured.
    per_choice: Vec<Option<Vec<f64>>>,
    target: f64,
    loss: LatencyLoss,
}

impl LatencyModel {
    pub(crate) fn new(
        costs: Option<&CostTable>,
        params: &ArchParams,
        target: Option<f64>,
        loss: LatencyLoss,
    ) -> Self {
        let reference = costs.map_or(0.0, |c| c.reference.latency_ms);
        let per_choice = params
            .choices()
            .iter()
            .map(|c| {
                costs
                    .and_then(|t| t.choices.get(&c.label))
                    .map(|list| list.iter().map(|x| x.latency_ms).collect())
            })
            .collect();
        LatencyModel {
            reference,
            per_choice,
            target: target.unwrap_or(reference).max(1e-6),
            loss: if costs.is_some() {
                loss
            } else {
                LatencyLoss::None
            },
        }
    }

    /// E[LAT] in ms as a differentiable function of α (`None` without a table).
    fn expected_tensor(&self, params: &ArchParams) -> Option<Tensor> {
        if self.loss == LatencyLoss::None {
            return None;
        }
        let mut total = Tensor::from(self.reference);
        for (k, lat) in self.per_choice.iter().enumerate() {
            let Some(lat) = lat else { continue };
            let alpha = &params.parameters()[k];
            let idx: Vec<i64> = params.active(k).iter().map(|&i| i as i64).collect();
            let values: Vec<f64> = params.active(k).iter().map(|&i| lat[i]).collect();
            let p = alpha
                .index_select(0, &Tensor::from_slice(&idx).to_device(alpha.device()))
                .softmax(0, Kind::Float);
            let lat = Tensor::from_slice(&values)
                .to_kind(Kind::Float)
                .to_device(alpha.device());
            total = total.to_device(alpha.device()) + (p * lat).sum(Kind::Float);
        }
        Some(total)
    }

    /// E[LAT] in ms, for reports.
    pub(crate) fn expected(&self, params: &ArchParams) -> Option<f64> {
        self.expected_tensor(params).map(|t| t.double_value(&[]))
    }

    fn total_loss(&self, ce: &Tensor, params: &ArchParams) -> Tensor {
        let Some(lat) = self.expected_tensor(params) else {
            return ce.shallow_clone();
        };
        match self.loss {
            LatencyLoss::None => ce.shallow_clone(),
            LatencyLoss::Additive { weight } => ce + lat / self.target * weight,
            LatencyLoss::Multiplicative { alpha, beta } => {
                let ratio = lat.clamp_min(1e-6).log() / self.target.max(1.0 + 1e-6).ln();
                ce * ratio.clamp_min(1e-6).pow_tensor_scalar(beta) * alpha
            }
        }
    }
}

/// One choice's sampled pair: the two candidates, their renormalised probabilities and
/// their gates (a leaf tensor `[2]`, one of them open).
struct Pair {
    candidates: [usize; 2],
    probs: [f64; 2],
    gates: Tensor,
}

/// One architecture step with two-path sampling. Returns (loss, accuracy).
pub(crate) fn arch_step(
    ctx: &mut SupernetContext<'_>,
    params: &mut ArchParams,
    latency: &LatencyModel,
    rng: &mut SeededRng,
    valid: &Batch,
) -> Result<(f64, f64)> {
    // Per mixed choice: the pair, its renormalised probabilities and its gates.
    let mut pairs: Vec<Option<Pair>> = Vec::new();
    for (k, c) in params.choices().iter().enumerate() {
        let active = params.active(k).to_vec();
        if !params.mixes(k) || active.len() < 2 {
            let all = if params.mixes(k) {
                active
            } else {
                (0..c.len()).collect()
            };
            ctx.set(SUPERNET, &c.label, Setting::Fixed(all))?;
            pairs.push(None);
            continue;
        }
        let p = params.probabilities(k);
        let first = draw(&active, &p, rng);
        let rest: Vec<usize> = active.iter().copied().filter(|&i| i != first).collect();
        let second = draw(&rest, &p, rng);
        let alpha = &params.parameters()[k];
        let (a, b) = (
            alpha.double_value(&[first as i64]),
            alpha.double_value(&[second as i64]),
        );
        let pa = 1.0 / (1.0 + (b - a).exp());
        let open_first = rng.rng().random::<f64>() < pa;
        let gates = Tensor::from_slice(&[
            f32::from(u8::from(open_first)),
            f32::from(u8::from(!open_first)),
        ])
        .to_device(alpha.device())
        .set_requires_grad(true);
        ctx.set(
            SUPERNET,
            &c.label,
            Setting::Weighted {
                indices: vec![first, second],
                weights: gates.shallow_clone(),
            },
        )?;
        pairs.push(Some(Pair {
            candidates: [first, second],
            probs: [pa, 1.0 - pa],
            gates,
        }));
    }
    let logits = ctx.forward(SUPERNET, &valid.inputs)?;
    let ce = cross_entropy(&logits, &valid.labels);
    let loss = latency.total_loss(&ce, params);
    let gate_list: Vec<&Tensor> = pairs.iter().flatten().map(|p| &p.gates).collect();
    let mut inputs: Vec<Tensor> = gate_list.iter().map(|g| g.shallow_clone()).collect();
    let n_gates = inputs.len();
    inputs.extend(params.parameters().iter().map(Tensor::shallow_clone));
    let grads = Tensor::run_backward(&[&loss], &inputs, false, false);
    let (gate_grads, alpha_grads) = grads.split_at(n_gates);
    let mut gate_iter = gate_grads.iter();
    let totals: Vec<Tensor> = params
        .parameters()
        .iter()
        .enumerate()
        .map(|(k, alpha)| {
            let direct = if alpha_grads[k].defined() {
                alpha_grads[k].shallow_clone()
            } else {
                alpha.zeros_like()
            };
            let Some(Pair {
                candidates: pair,
                probs,
                ..
            }) = &pairs[k]
            else {
                return direct;
            };
            let g = gate_iter.next().filter(|g| g.defined());
            let dg: Vec<f64> = match g {
                Some(g) => (0..2).map(|j| g.double_value(&[j])).collect(),
                None => vec![0.0, 0.0],
            };
            // ∂L/∂α_i = Σ_j ∂L/∂g_j · p_j (δ_ij − p_i), over the pair.
            let mut estimate = vec![0.0f32; alpha.size()[0] as usize];
            for i in 0..2 {
                let mut s = 0.0;
                for j in 0..2 {
                    let delta = if i == j { 1.0 } else { 0.0 };
                    s += dg[j] * probs[j] * (delta - probs[i]);
                }
                estimate[pair[i]] += s as f32;
            }
            direct + Tensor::from_slice(&estimate).to_device(alpha.device())
        })
        .collect();
    params.set_grads(&totals);
    params.step();
    Ok((ce.double_value(&[]), accuracy(&logits, &valid.labels)))
}
