//! Reporting a one-shot epoch the same way in every differentiable trainer.

use super::{ArchParams, CollapseGuard, Derived, StepMeter};
use archon_plugin_api::{
    one_shot::{Report, SupernetContext},
    Result,
};
use std::collections::BTreeMap;

/// Reports step `step` of `epoch` with `metrics`, and adds them to `meter`.
pub fn report_step(
    ctx: &mut SupernetContext<'_>,
    meter: &mut StepMeter,
    (epoch, step): (usize, usize),
    metrics: &[(&str, f64)],
) -> Result<()> {
    for (k, v) in metrics {
        meter.add(k, *v);
    }
    ctx.report(&Report::Step {
        epoch,
        step,
        metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    })
}

/// Derives the architecture at the end of `epoch` and reports the epoch: the step
/// means, the collapse counts, `extra` metrics, α's probabilities and the derived
/// architecture.
pub fn finish_epoch(
    ctx: &mut SupernetContext<'_>,
    epoch: usize,
    meter: &StepMeter,
    params: &ArchParams,
    guard: &CollapseGuard,
    extra: BTreeMap<String, f64>,
) -> Result<Derived> {
    let derived = params.derive(guard)?;
    let mut metrics = meter.means();
    metrics.extend(derived.stats.metrics());
    metrics.extend(extra);
    if derived.collapsed {
        metrics.insert("collapsed".into(), 1.0);
    }
    ctx.report(&Report::Epoch {
        epoch,
        metrics,
        arch_weights: params.report(),
        architecture: Some(derived.architecture.clone()),
    })?;
    Ok(derived)
}
