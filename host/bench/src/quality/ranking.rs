//! How well a trained supernet ranks architectures: for a seeded sample of a
//! ground-truth table's architectures, the supernet's estimate (that one path,
//! batch-norm statistics recalibrated on training batches, accuracy on the search's
//! architecture split) against the table's stand-alone test accuracy — Kendall's τ
//! and Spearman's ρ.

use crate::ground_truth::table::Entry;
use anyhow::{Context, Result};
use archon_core::stats::{kendall, spearman, Draw};
use archon_plugin_api::{
    tch::{Kind, Tensor},
    Architecture,
};
use archon_spaces::{data::Dataset, Supernet};
use serde::Serialize;

/// How a supernet's ranking agrees with the ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    /// Architectures compared.
    pub architectures: usize,
    /// How the supernet estimated them.
    pub settings: EstimateSettings,
    /// Kendall's τ-b.
    pub kendall: Option<f64>,
    /// Spearman's ρ.
    pub spearman: Option<f64>,
    /// Kendall's τ-b when the estimate is the validation loss (lower is better)
    /// instead of the accuracy.
    pub kendall_by_loss: Option<f64>,
    /// The supernet's estimate per architecture (key, estimate, table test accuracy).
    pub points: Vec<(String, f64, f64)>,
}

/// How the supernet estimates one architecture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EstimateSettings {
    /// Batches of 64 training examples to recalibrate batch norm on.
    pub recalibrate_batches: usize,
    /// Examples to evaluate on (at most the split's).
    pub eval_examples: usize,
    /// SGD steps (batches of 64 training examples) fine-tuning the path's inherited
    /// weights before the estimate (0: the supernet's weights as they are). The
    /// supernet's weights are restored afterwards.
    pub finetune_steps: usize,
    /// The fine-tuning's learning rate (SGD, momentum 0.9).
    pub finetune_lr: f64,
}

impl Default for EstimateSettings {
    fn default() -> Self {
        EstimateSettings {
            recalibrate_batches: 10,
            eval_examples: 1000,
            finetune_steps: 0,
            finetune_lr: 0.01,
        }
    }
}

/// Data and settings for the estimates.
pub struct EstimateData<'a> {
    /// Training data (fine-tuning and batch-norm recalibration use its first batches).
    pub train: &'a Dataset,
    /// Evaluation data.
    pub valid: &'a Dataset,
    /// How to estimate.
    pub settings: EstimateSettings,
}

/// One estimate: accuracy and mean cross-entropy on the evaluation data.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    /// Fraction correct.
    pub accuracy: f64,
    /// Mean cross-entropy.
    pub loss: f64,
}

/// The `k`-th training batch of 64 (cycling through the split).
fn train_batch(
    data: &Dataset,
    k: usize,
    device: archon_plugin_api::tch::Device,
) -> (Tensor, Tensor) {
    const BATCH: i64 = 64;
    let n = data.len() as i64;
    let per_epoch = ((n + BATCH - 1) / BATCH).max(1);
    let begin = (k as i64 % per_epoch) * BATCH;
    let len = BATCH.min(n - begin);
    (
        data.inputs.narrow(0, begin, len).to_device(device),
        data.labels.narrow(0, begin, len).to_device(device),
    )
}

/// The supernet's estimate of `arch`: optionally fine-tuned, batch norm recalibrated,
/// evaluated. The supernet's weights are left as they were (bar batch-norm statistics).
pub fn estimate(
    supernet: &mut Supernet,
    arch: &Architecture,
    data: &EstimateData,
) -> Result<Estimate> {
    supernet.set_architecture(arch)?;
    let device = supernet.var_store().device();
    let settings = data.settings;
    let saved = if settings.finetune_steps > 0 {
        Some(finetune(supernet, data, device)?)
    } else {
        None
    };
    let n = data.train.len();
    let batches = settings.recalibrate_batches.min(n.div_ceil(64));
    let mut k = 0usize;
    supernet.recalibrate_batch_norm(&mut || {
        if k >= batches {
            return None;
        }
        k += 1;
        Some(train_batch(data.train, k - 1, device).0)
    })?;
    let total = (data.valid.len().min(settings.eval_examples)) as i64;
    let mut correct = 0i64;
    let mut loss_sum = 0f64;
    let mut begin = 0i64;
    while begin < total {
        let len = 256.min(total - begin);
        let xs = data.valid.inputs.narrow(0, begin, len).to_device(device);
        let ys = data.valid.labels.narrow(0, begin, len).to_device(device);
        let logits = archon_plugin_api::tch::no_grad(|| supernet.forward(&xs, false))?;
        correct += logits
            .argmax(-1, false)
            .eq_tensor(&ys)
            .sum(Kind::Int64)
            .int64_value(&[]);
        loss_sum += logits.cross_entropy_for_logits(&ys).double_value(&[]) * len as f64;
        begin += len;
    }
    if let Some(saved) = saved {
        archon_plugin_api::tch::no_grad(|| {
            for (var, copy) in &saved {
                var.shallow_clone().copy_(copy);
            }
        });
    }
    let total = total.max(1) as f64;
    Ok(Estimate {
        accuracy: correct as f64 / total,
        loss: loss_sum / total,
    })
}

/// Fine-tunes the current path; returns every variable with a copy of its value from
/// before.
fn finetune(
    supernet: &mut Supernet,
    data: &EstimateData,
    device: archon_plugin_api::tch::Device,
) -> Result<Vec<(Tensor, Tensor)>> {
    use archon_plugin_api::tch::nn::OptimizerConfig;
    let saved: Vec<(Tensor, Tensor)> = supernet
        .var_store()
        .variables()
        .into_values()
        .map(|t| {
            let copy = t.detach().copy();
            (t, copy)
        })
        .collect();
    let mut opt = archon_plugin_api::tch::nn::Sgd {
        momentum: 0.9,
        ..Default::default()
    }
    .build(supernet.var_store(), data.settings.finetune_lr)?;
    for step in 0..data.settings.finetune_steps {
        let (xs, ys) = train_batch(data.train, step, device);
        let loss = supernet.forward(&xs, true)?.cross_entropy_for_logits(&ys);
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
    opt.zero_grad();
    Ok(saved)
}

/// Ranks `count` architectures of `entries` (a seeded sample; all if fewer) with the
/// supernet and compares with their mean test accuracy.
pub fn rank(
    supernet: &mut Supernet,
    entries: &[Entry],
    count: usize,
    seed: u64,
    data: &EstimateData,
) -> Result<Ranking> {
    let space = supernet.search_space().clone();
    let mut order: Vec<usize> = (0..entries.len()).collect();
    let mut draw = Draw(seed);
    let take = count.min(order.len());
    for i in 0..take {
        let j = i + draw.below((order.len() - i) as u128) as usize;
        order.swap(i, j);
    }
    let mut points = Vec::with_capacity(take);
    let mut losses = Vec::with_capacity(take);
    for &i in &order[..take] {
        let entry = &entries[i];
        let arch = Architecture::from_json(&space, &entry.arch)
            .with_context(|| format!("architecture {} of the table", entry.key))?;
        let estimate = estimate(supernet, &arch, data)
            .with_context(|| format!("estimating {} with the supernet", entry.key))?;
        points.push((entry.key.clone(), estimate.accuracy, entry.test()));
        losses.push(-estimate.loss);
    }
    let (est, truth): (Vec<f64>, Vec<f64>) = points.iter().map(|p| (p.1, p.2)).unzip();
    Ok(Ranking {
        architectures: points.len(),
        settings: data.settings,
        kendall: kendall(&est, &truth),
        spearman: spearman(&est, &truth),
        kendall_by_loss: kendall(&losses, &truth),
        points,
    })
}
