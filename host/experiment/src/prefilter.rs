//! The proxy pre-filter (`[tuner.prefilter]`): before the tuner proposes anything, the
//! host scores a large seeded random sample of the built-in space's architectures with a
//! zero-cost proxy (`archon_spaces::proxies`, one minibatch of the trial's data, no
//! training) and runs the best `keep` of them as the experiment's first trials. Their
//! results reach the tuner like any other (a tuner learns from results of trials it did
//! not propose through their parameters: evolution seeds its population with them, TPE
//! its model), so the search starts from the proxy's favourites.
//!
//! The ranking is computed once and kept in the store (meta `prefilter`), so a resumed
//! experiment dispenses the rest of the same list.

use super::config::ExperimentConfig;
use anyhow::{bail, Context, Result};
use archon_core::{child::architecture, plugins::SearchPath, spec::data, stats::Draw};
use archon_plugin_api::{tch, Architecture, SearchSpace};
use archon_spaces::{
    hub,
    proxies::{score, Proxy},
    Child,
};
use serde::{Deserialize, Serialize};
use std::{collections::HashSet, path::Path};

pub use super::prefilter_section::PrefilterSection;

/// One pre-filtered architecture: its trial parameters and its proxy score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    /// NNI-format parameters (hyperparameters included), as the tuner would give them.
    pub parameters: serde_json::Value,
    pub score: f64,
}

impl Pick {
    /// What the store keeps as the trial's info.
    pub fn info(&self, proxy: &str, rank: usize) -> serde_json::Value {
        serde_json::json!({"prefilter": {"proxy": proxy, "score": self.score, "rank": rank}})
    }
}

/// Scores a seeded random sample of the experiment's space and returns the best
/// `keep`, best first.
pub fn rank(
    cfg: &ExperimentConfig,
    config_dir: &Path,
    space_json: &str,
    search_path: &SearchPath,
) -> Result<Vec<Pick>> {
    let pre = cfg
        .tuner
        .prefilter
        .as_ref()
        .context("internal: no tuner.prefilter")?;
    let proxy = Proxy::from_name(&pre.proxy)?;
    let space = SearchSpace::from_json_str(space_json)?;
    let mut draw = Draw(cfg.seed ^ 0x5052_4546_494c_5452);
    let mut seen = HashSet::new();
    let want = space.size().map_or(pre.sample, |n| {
        pre.sample.min(n.min(usize::MAX as u128) as usize)
    });
    let mut drawn = Vec::with_capacity(want);
    while drawn.len() < want {
        let Some(selections) = space.sample_unseen(&seen, &mut |n| draw.below(n)) else {
            break;
        };
        seen.insert(selections.clone());
        drawn.push(Architecture::new(&space, selections)?.to_json(&space));
    }
    if drawn.is_empty() {
        bail!("the pre-filter drew no architecture from the space");
    }
    // The built-in trial's own view: its data, its network configuration, and the
    // architecture without the hyperparameters.
    let first = cfg.trial_spec(config_dir, drawn[0].to_string())?;
    let family = hub::space(&first.space)?;
    let loaded = data::load(&first.data).context("the pre-filter's minibatch")?;
    if loaded.train.inputs.kind() != tch::Kind::Float {
        bail!(
            "zero-cost proxies score image networks; {} takes text",
            first.space
        );
    }
    let mut space_cfg = first.space_spec.config(search_path)?;
    loaded.shape(&mut space_cfg);
    let batch = (pre.batch as usize).min(loaded.train.len());
    let minibatch = loaded.train.subset(batch, cfg.seed);
    let mut scored = Vec::with_capacity(drawn.len());
    for parameters in drawn {
        let spec = cfg.trial_spec(config_dir, parameters.to_string())?;
        let arch = architecture(&spec.arch, family.name(), &space_cfg)?;
        tch::manual_seed(cfg.seed as i64);
        let mut child = Child::build(family, &space_cfg, &arch, tch::Device::Cpu)
            .with_context(|| format!("building {arch} for the pre-filter"))?;
        let s = score(&mut child, proxy, &minibatch.inputs, &minibatch.labels)
            .with_context(|| format!("{} of {arch}", proxy.name()))?;
        // A proxy that cannot score an architecture (NaN) ranks it last.
        scored.push(Pick {
            parameters,
            score: if s.is_finite() { s } else { f64::MIN },
        });
    }
    // Best first; ties keep the draw's order.
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    scored.truncate(pre.keep);
    Ok(scored)
}
