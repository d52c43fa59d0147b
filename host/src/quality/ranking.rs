//! How well a trained supernet ranks architectures: for a seeded sample of a
//! ground-truth table's architectures, the supernet's estimate (that one path,
//! batch-norm statistics recalibrated on training batches, accuracy on the search's
//! architecture split) against the table's stand-alone test accuracy — Kendall's τ
//! and Spearman's ρ.

use crate::ground_truth::{
    stats::{kendall, spearman, Draw},
    table::Entry,
};
use anyhow::{Context, Result};
use archon_plugin_api::{tch::Kind, Architecture};
use archon_spaces::{data::Dataset, Supernet};
use serde::Serialize;

/// How a supernet's ranking agrees with the ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    /// Architectures compared.
    pub architectures: usize,
    /// Kendall's τ-b.
    pub kendall: Option<f64>,
    /// Spearman's ρ.
    pub spearman: Option<f64>,
    /// The supernet's estimate per architecture (key, estimate, table test accuracy).
    pub points: Vec<(String, f64, f64)>,
}

/// Batches for recalibration and evaluation.
pub struct EstimateData<'a> {
    /// Training data (batch-norm statistics are recomputed on its first batches).
    pub train: &'a Dataset,
    /// Evaluation data.
    pub valid: &'a Dataset,
    /// Batches of 64 for recalibration.
    pub recalibrate_batches: usize,
    /// Examples to evaluate on (at most the split's).
    pub eval_examples: usize,
}

/// The supernet's accuracy estimate of `arch`.
pub fn estimate(supernet: &mut Supernet, arch: &Architecture, data: &EstimateData) -> Result<f64> {
    supernet.set_architecture(arch)?;
    let device = supernet.var_store().device();
    let batch = 64i64;
    let n = data.train.len() as i64;
    let mut k = 0i64;
    supernet.recalibrate_batch_norm(&mut || {
        if k as usize >= data.recalibrate_batches || k * batch >= n {
            return None;
        }
        let len = batch.min(n - k * batch);
        let xs = data
            .train
            .inputs
            .narrow(0, k * batch, len)
            .to_device(device);
        k += 1;
        Some(xs)
    })?;
    let total = (data.valid.len().min(data.eval_examples)) as i64;
    let mut correct = 0i64;
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
        begin += len;
    }
    Ok(correct as f64 / total.max(1) as f64)
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
    for &i in &order[..take] {
        let entry = &entries[i];
        let arch = Architecture::from_json(&space, &entry.arch)
            .with_context(|| format!("architecture {} of the table", entry.key))?;
        let estimate = estimate(supernet, &arch, data)
            .with_context(|| format!("estimating {} with the supernet", entry.key))?;
        points.push((entry.key.clone(), estimate, entry.test()));
    }
    let (est, truth): (Vec<f64>, Vec<f64>) = points.iter().map(|p| (p.1, p.2)).unzip();
    Ok(Ranking {
        architectures: points.len(),
        kendall: kendall(&est, &truth),
        spearman: spearman(&est, &truth),
        points,
    })
}
