//! Fixing a network to one path: from an NNI-format architecture or from selections
//! (single-path sampling in ENAS, TextNAS, SPOS; CDARTS's evaluation network).

use archon_plugin_api::{
    one_shot::{NetId, Setting, SupernetContext},
    serde_json::{self, Value},
    Architecture, PluginError, Result, SearchSpace, Selection,
};

/// Fixes every choice of `net` to an NNI-format architecture (each label's `_idx`).
pub fn apply_architecture(
    ctx: &mut SupernetContext<'_>,
    net: NetId,
    architecture: &serde_json::Value,
) -> Result<()> {
    let map = architecture
        .as_object()
        .ok_or_else(|| PluginError::invalid_input("an architecture must be a JSON object"))?;
    for (label, entry) in map {
        let idx = entry.get("_idx").ok_or_else(|| {
            PluginError::invalid_input(format!("architecture: {label:?} has no _idx"))
        })?;
        let indices: Vec<usize> = match idx {
            serde_json::Value::Array(list) => list
                .iter()
                .filter_map(|v| v.as_u64().map(|v| v as usize))
                .collect(),
            v => vec![v.as_u64().ok_or_else(|| {
                PluginError::invalid_input(format!("architecture: {label:?} has a bad _idx {v}"))
            })? as usize],
        };
        ctx.set(net, label, Setting::Fixed(indices))?;
    }
    Ok(())
}

/// Fixes every choice of `net` to `selections` (one per choice of `space`, checked
/// against it). Returns the architecture as NNI-format JSON.
pub fn apply_selections(
    ctx: &mut SupernetContext<'_>,
    net: NetId,
    space: &SearchSpace,
    selections: Vec<Selection>,
) -> Result<Value> {
    let architecture = Architecture::new(space, selections)?.to_json(space);
    apply_architecture(ctx, net, &architecture)?;
    Ok(architecture)
}
