//! The host's check of an exported architecture against the search's `[limits]`:
//! the child is built and measured (parameters and multiply-adds exactly, latency as
//! the median of timed forward passes of one image on the search device) whatever the
//! trainer estimated. Parameters and multiply-adds must fit exactly; latency, a noisy
//! measurement, may exceed its limit by [`LATENCY_SLACK`].

use anyhow::{bail, Result};
use archon_core::costs;
use archon_plugin_api::{
    one_shot::{CandidateCost, Limits},
    tch::Tensor,
};
use archon_spaces::hub::{SpaceConfig, SpaceFamily};

/// How far over `max_latency_ms` a measured latency may be (timing noise).
pub const LATENCY_SLACK: f64 = 0.10;

/// Measures the exported `architecture` and refuses it, naming the limits it breaks,
/// when it does not fit `limits`; returns what it measured.
pub fn check_export(
    plugin: &str,
    (family, cfg): (&dyn SpaceFamily, &SpaceConfig),
    architecture: &serde_json::Value,
    limits: &Limits,
    example: &Tensor,
) -> Result<CandidateCost> {
    let measured = costs::of_architecture(family, cfg, architecture, example, true)?;
    let broken: Vec<String> = limits
        .excesses(&measured)
        .into_iter()
        .filter(|e| e.key != "max_latency_ms" || e.cost > e.limit * (1.0 + LATENCY_SLACK))
        .map(|e| e.to_string())
        .collect();
    if !broken.is_empty() {
        bail!(
            "{plugin} exported an architecture over the search's limits: {} (measured on the \
             built network; it is kept in architecture.json). The plugin may not honour \
             [limits] (built against an older archon-plugin-api?), or its cost estimate \
             misses this space's structure: raise the limits or use another algorithm",
            broken.join(", ")
        );
    }
    Ok(measured)
}

#[cfg(test)]
mod tests {
    use super::*;
    use archon_plugin_api::tch::{Device, Kind};
    use archon_spaces::hub;

    fn arch(ops: [&str; 6]) -> serde_json::Value {
        let labels = [
            "edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2",
        ];
        let names = ["skip_connect", "nor_conv_3x3", "avg_pool_3x3"];
        let mut a = serde_json::Map::new();
        for (label, op) in labels.iter().zip(ops) {
            let idx = names.iter().position(|n| *n == op).unwrap();
            a.insert(
                label.to_string(),
                serde_json::json!({"_value": op, "_idx": idx}),
            );
        }
        serde_json::Value::Object(a)
    }

    #[test]
    fn an_export_over_the_limits_is_refused_naming_them_and_one_within_passes() {
        let family = hub::space("nas-bench-201").unwrap();
        let cfg = SpaceConfig {
            options: archon_plugin_api::Options::from_json_str(
                r#"{"width": 4, "cells_per_stage": 1, "ops": "skip_connect,nor_conv_3x3,avg_pool_3x3"}"#,
            )
            .unwrap(),
            ..SpaceConfig::default()
        };
        let example = Tensor::zeros([1, 1, 28, 28], (Kind::Float, Device::Cpu));
        let convs = arch(["nor_conv_3x3"; 6]);
        let skips = arch(["skip_connect"; 6]);
        let big = costs::of_architecture(family, &cfg, &convs, &example, false).unwrap();
        let small = costs::of_architecture(family, &cfg, &skips, &example, false).unwrap();
        assert!(small.params < big.params && small.flops < big.flops);
        let limits = Limits {
            max_params: Some((big.params - 1) as f64),
            ..Limits::default()
        };
        let e = check_export("darts", (family, &cfg), &convs, &limits, &example)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("darts exported an architecture over the search's limits: parameters"),
            "{e}"
        );
        assert!(
            e.contains(&format!("> max_params {}", big.params - 1)),
            "{e}"
        );
        let measured = check_export("darts", (family, &cfg), &skips, &limits, &example).unwrap();
        assert_eq!(measured.params, small.params);
    }
}
