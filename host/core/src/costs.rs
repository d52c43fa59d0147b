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
use std::{
    path::{Path, PathBuf},
    time::Instant,
};

/// Forward passes timed per measurement (the median counts).
const TIMED_RUNS: usize = 5;

fn measure(
    family: &dyn SpaceFamily,
    cfg: &SpaceConfig,
    space: &SearchSpace,
    selections: Vec<Selection>,
    example: &Tensor,
) -> Result<CandidateCost> {
    let arch = Architecture::new(space, selections)?;
    of_architecture(family, cfg, &arch.to_json(space), example, true)
}

/// The exact parameters and multiply-adds of an architecture's child and, when
/// `timed`, its median latency for `example` (a batch of one) on `example`'s device
/// (else 0: timing costs forward passes a caller without a latency limit never needs).
pub fn of_architecture(
    family: &dyn SpaceFamily,
    cfg: &SpaceConfig,
    architecture: &serde_json::Value,
    example: &Tensor,
    timed: bool,
) -> Result<CandidateCost> {
    let child = Child::build(family, cfg, architecture, example.device())
        .map_err(|e| PluginError::internal(format!("cost table: {e}")))?;
    Ok(CandidateCost {
        params: child.params() as i64,
        flops: child.flops_for(example) as i64,
        latency_ms: if timed {
            median_latency(&child, example)?
        } else {
            0.0
        },
    })
}

/// The median of [`TIMED_RUNS`] timed forward passes of `example`, after a warm-up.
fn median_latency(child: &Child, example: &Tensor) -> Result<f64> {
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
    Ok(times[times.len() / 2])
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
/// choices are left out: their cost depends on the edges they select), measured as
/// differences to the reference child.
pub fn table(
    family: &dyn SpaceFamily,
    cfg: &SpaceConfig,
    points: &[ChoicePoint],
    space: &SearchSpace,
    example: &Tensor,
) -> Result<CostTable> {
    let reference: Vec<Selection> = space.choices().iter().map(|c| first(c.kind())).collect();
    let base = measure(family, cfg, space, reference.clone(), example)?;
    let mut table = CostTable {
        reference: base.clone(),
        choices: Default::default(),
    };
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
        table.choices.insert(choice.name().to_string(), costs);
    }
    Ok(table)
}

/// FNV-1a, for cache file names that stay the same across builds.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Where cost tables are cached: `$ARCHON_CACHE/costs` or `~/.cache/archon/costs`.
fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("ARCHON_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/archon")))
        .map(|d| d.join("costs"))
}

/// [`table`], cached on disk per space, options, input shape, device and thread count
/// (latency is measured once per machine and configuration; delete the file to
/// measure again).
pub fn cached_table(
    family: &dyn SpaceFamily,
    cfg: &SpaceConfig,
    points: &[ChoicePoint],
    space: &SearchSpace,
    example: &Tensor,
) -> Result<CostTable> {
    let key = format!(
        "{} {} {:?} {:?} {:?} threads={}",
        family.name(),
        cfg.options
            .as_map()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        example.size(),
        cfg.num_classes,
        example.device(),
        archon_plugin_api::tch::get_num_threads()
    );
    let path =
        cache_dir().map(|d| d.join(format!("{}-{:016x}.json", family.name(), fingerprint(&key))));
    if let Some(p) = &path {
        if let Some(table) = std::fs::read_to_string(p)
            .ok()
            .and_then(|t| serde_json::from_str::<CostTable>(&t).ok())
        {
            return Ok(table);
        }
    }
    let table = table(family, cfg, points, space, example)?;
    if let Some(p) = &path {
        // A cache that cannot be written only costs a re-measurement next time.
        let _ = p.parent().map(std::fs::create_dir_all).and_then(|_| {
            serde_json::to_string(&table)
                .ok()
                .map(|t| std::fs::write(p, t))
        });
    }
    Ok(table)
}
