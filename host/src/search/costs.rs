//! Cost tables for hardware-aware search: what each candidate of each choice adds to
//! a reference child (every other choice at its first candidate) in parameters,
//! multiply-adds and measured latency on the search device.

use archon_plugin_api::{
    one_shot::{CandidateCost, CostTable},
    space::ChoiceKind,
    tch::Tensor,
    Architecture, PluginError, Result, SearchSpace, Selection,
};
use archon_spaces::{
    choice::ChoicePoint,
    hub::{SpaceConfig, SpaceFamily},
    Child,
};
use std::time::Instant;

/// Forward passes timed per measurement (the median counts).
const TIMED_RUNS: usize = 5;

struct Measured {
    params: i64,
    flops: i64,
    latency_ms: f64,
}

fn measure(
    family: &dyn SpaceFamily,
    cfg: &SpaceConfig,
    space: &SearchSpace,
    selections: Vec<Selection>,
    example: &Tensor,
) -> Result<Measured> {
    let arch = Architecture::new(space, selections)?;
    let child = Child::build(family, cfg, &arch.to_json(space), example.device())
        .map_err(|e| PluginError::internal(format!("cost table: {e}")))?;
    let mut times = Vec::with_capacity(TIMED_RUNS);
    archon_plugin_api::tch::no_grad(|| -> Result<()> {
        let _warm_up = child
            .forward(example, false)
            .map_err(|e| PluginError::internal(format!("cost table: {e}")))?;
        for _ in 0..TIMED_RUNS {
            let start = Instant::now();
            let y = child
                .forward(example, false)
                .map_err(|e| PluginError::internal(format!("cost table: {e}")))?;
            // Waits for the device (a no-op on CPU).
            let _ = y.sum(y.kind()).double_value(&[]);
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        Ok(())
    })?;
    times.sort_by(f64::total_cmp);
    Ok(Measured {
        params: child.params() as i64,
        flops: child.flops_for(example) as i64,
        latency_ms: times[times.len() / 2],
    })
}

/// The reference selection of a choice: its first candidate (the first `n` inputs of
/// an input choice).
fn first(kind: &ChoiceKind) -> Selection {
    match kind {
        ChoiceKind::Input { n_chosen, .. } => Selection::Many((0..n_chosen.unwrap_or(1)).collect()),
        _ => Selection::One(0),
    }
}

/// Per-label, per-candidate costs of a supernet's layer and value choices (input
/// choices are left out: their cost depends on the edges they select).
pub fn table(
    family: &dyn SpaceFamily,
    cfg: &SpaceConfig,
    points: &[ChoicePoint],
    space: &SearchSpace,
    example: &Tensor,
) -> Result<CostTable> {
    let reference: Vec<Selection> = space.choices().iter().map(|c| first(c.kind())).collect();
    let base = measure(family, cfg, space, reference.clone(), example)?;
    let mut table = CostTable::new();
    for (k, choice) in space.choices().iter().enumerate() {
        if matches!(choice.kind(), ChoiceKind::Input { .. })
            || !points.iter().any(|p| p.label == choice.name())
        {
            continue;
        }
        let mut costs = Vec::with_capacity(choice.num_candidates());
        for i in 0..choice.num_candidates() {
            let mut selections = reference.clone();
            selections[k] = Selection::One(i);
            let m = measure(family, cfg, space, selections, example)?;
            costs.push(CandidateCost {
                params: m.params - base.params,
                flops: m.flops - base.flops,
                latency_ms: m.latency_ms - base.latency_ms,
            });
        }
        table.insert(choice.name().to_string(), costs);
    }
    Ok(table)
}
