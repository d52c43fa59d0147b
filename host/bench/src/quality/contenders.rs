//! The networks a searched one is judged against in `archon bench final`, besides
//! random search: the largest architecture of its space within a parameter limit
//! ("take the biggest that fits"), and the hand-designed ResNet nearest its size.

use crate::ground_truth::run::sample_architectures;
use anyhow::{bail, Result};
use archon_core::stats::Draw;
use archon_plugin_api::{tch::Device, Architecture};
use archon_spaces::{
    hub::{self, SpaceConfig},
    Child,
};

/// Spaces larger than this are sampled (seeded) instead of enumerated.
pub const MAX_ENUMERATED: u128 = 20_000;

/// An architecture and its size.
#[derive(Debug, Clone)]
pub struct Sized {
    /// The architecture (NNI JSON).
    pub arch: serde_json::Value,
    /// Its trainable parameters under the configuration it was sized for.
    pub params: u64,
}

/// The architecture of `space` (built for `cfg`) with the most parameters not above
/// `limit`, ties drawn with `seed`; with how many architectures were looked at.
/// Every architecture when the space has at most [`MAX_ENUMERATED`], else that many
/// drawn uniformly.
pub fn largest_within(
    space: &str,
    cfg: &SpaceConfig,
    limit: u64,
    seed: u64,
) -> Result<(Sized, usize)> {
    let family = hub::space(space)?;
    let search_space = Child::space_of(family, cfg)?;
    let candidates: Vec<Architecture> = match search_space.size() {
        Some(n) if n <= MAX_ENUMERATED => (0..n)
            .filter_map(|i| search_space.architecture_at(i))
            .collect(),
        _ => sample_architectures(&search_space, MAX_ENUMERATED as usize, seed)?,
    };
    let mut best: Vec<Sized> = Vec::new();
    for candidate in &candidates {
        let arch = candidate.to_json(&search_space);
        let params = Child::build(family, cfg, &arch, Device::Cpu)?.params();
        if params > limit {
            continue;
        }
        match best.first().map(|b| b.params) {
            Some(p) if p > params => {}
            Some(p) if p == params => best.push(Sized { arch, params }),
            _ => best = vec![Sized { arch, params }],
        }
    }
    if best.is_empty() {
        bail!(
            "no architecture of {space} has at most {limit} parameters (of {} looked at): raise the limit",
            candidates.len()
        );
    }
    let pick = Draw(seed).below(best.len() as u128) as usize;
    Ok((best.swap_remove(pick), candidates.len()))
}

/// The ResNet reference (space `resnet`, 3 blocks a stage, ResNet-20's shape) whose
/// parameter count is nearest `params` (by ratio): its `width` and parameters. Widths
/// are even (odd channel counts run markedly slower on CPU).
pub fn resnet_near(cfg: &SpaceConfig, params: u64) -> Result<(i64, u64)> {
    let family = hub::space("resnet")?;
    let mut best: Option<(i64, u64, f64)> = None;
    for width in (2..=96).step_by(2) {
        let options = archon_plugin_api::Options::from_json_str(
            &serde_json::json!({ "width": width, "blocks": 3 }).to_string(),
        )?;
        let cfg = SpaceConfig {
            options,
            ..cfg.clone()
        };
        let p = Child::build(family, &cfg, &serde_json::json!({}), Device::Cpu)?.params();
        let distance = ((p as f64) / (params.max(1) as f64)).ln().abs();
        if best.is_none_or(|(_, _, d)| distance < d) {
            best = Some((width, p, distance));
        }
        if p > params.saturating_mul(2) {
            break;
        }
    }
    let (width, p, _) = best.expect("at least one width was tried");
    Ok((width, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn nb201(width: i64) -> SpaceConfig {
        SpaceConfig {
            options: archon_plugin_api::Options::from_json_str(
                &serde_json::json!({"width": width, "cells_per_stage": 1,
                    "ops": "skip_connect,nor_conv_3x3,avg_pool_3x3"})
                .to_string(),
            )
            .unwrap(),
            ..SpaceConfig::default()
        }
    }

    #[test]
    fn the_largest_within_a_limit_is_the_biggest_that_fits() {
        let cfg = nb201(4);
        let (all_conv, _) = largest_within("nas-bench-201", &cfg, u64::MAX, 0).unwrap();
        let text = all_conv.arch.to_string();
        // Without a limit: the cell of six convolutions, the only one that large.
        assert_eq!(text.matches("nor_conv_3x3").count(), 6, "{text}");
        let (under, looked) =
            largest_within("nas-bench-201", &cfg, all_conv.params - 1, 0).unwrap();
        assert_eq!(looked, 729);
        assert!(under.params < all_conv.params);
        assert_eq!(under.arch.to_string().matches("nor_conv_3x3").count(), 5);
        // Five convolutions: six architectures tie; the seed draws among them.
        let picks: HashSet<String> = (0..8)
            .map(|s| {
                largest_within("nas-bench-201", &cfg, all_conv.params - 1, s)
                    .unwrap()
                    .0
                    .arch
                    .to_string()
            })
            .collect();
        assert!(picks.len() > 1, "{picks:?}");
        let e = largest_within("nas-bench-201", &cfg, 10, 0).unwrap_err();
        assert!(e.to_string().contains("at most 10 parameters"), "{e}");
    }

    #[test]
    fn the_resnet_reference_is_sized_to_the_network() {
        let cfg = SpaceConfig::default();
        let (width, params) = resnet_near(&cfg, 272_186).unwrap();
        assert_eq!((width, params), (16, 272_186), "ResNet-20 itself");
        let (width, params) = resnet_near(&cfg, 100_000).unwrap();
        assert!((8..16).contains(&width), "{width}");
        assert!((70_000..140_000).contains(&params), "{params}");
    }
}
