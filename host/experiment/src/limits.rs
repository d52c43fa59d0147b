//! `[limits]` in an experiment: every architecture a tuner (or the pre-filter)
//! proposes is built and priced — parameters and multiply-adds exactly, latency as the
//! median of timed forward passes of one image — before it may run; one over the
//! limits never becomes a trial: the tuner is told it ended unsuccessfully and asked
//! for another.

use super::config::ExperimentConfig;
use anyhow::{Context, Result};
use archon_core::{child::architecture, costs, plugins::SearchPath, spec::data};
use archon_plugin_api::{
    one_shot::{CandidateCost, Limits},
    tch::{Device, Tensor},
};
use archon_spaces::hub;
use std::path::{Path, PathBuf};

/// Proposals over the limits in a row after which the experiment stops asking.
pub const MAX_REJECTED_IN_A_ROW: usize = 1000;

/// Prices proposals of a built-in space's experiment (latency — six timed forward
/// passes — only under a latency limit).
pub struct Pricer {
    cfg: ExperimentConfig,
    config_dir: PathBuf,
    search_path: SearchPath,
    /// One training image, the shape every child is priced at.
    example: Tensor,
    /// The data's (channels, image size, classes, vocabulary).
    shape: (i64, i64, i64, i64),
}

impl Pricer {
    /// A pricer for `cfg`'s limits (none when it has no limits).
    pub fn new(
        cfg: &ExperimentConfig,
        config_dir: &Path,
        search_path: &SearchPath,
    ) -> Result<Option<Pricer>> {
        if cfg.limits.is_empty() {
            return Ok(None);
        }
        let spec = cfg.trial_spec(config_dir, "{}".into())?;
        let loaded = data::load(&spec.data).context("limits: one image to price networks at")?;
        let example = loaded.train.inputs.narrow(0, 0, 1).to_device(Device::Cpu);
        Ok(Some(Pricer {
            cfg: cfg.clone(),
            config_dir: config_dir.to_path_buf(),
            search_path: search_path.clone(),
            example,
            shape: (
                loaded.channels,
                loaded.image_size,
                loaded.classes,
                loaded.vocab,
            ),
        }))
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.cfg.limits
    }

    /// What the network of trial parameters `parameters` costs.
    pub fn price(&self, parameters: &str) -> Result<CandidateCost> {
        let spec = self
            .cfg
            .trial_spec(&self.config_dir, parameters.to_string())?;
        let family = hub::space(&spec.space)?;
        let mut space_cfg = spec.space_spec.config(&self.search_path)?;
        (
            space_cfg.input_channels,
            space_cfg.image_size,
            space_cfg.num_classes,
            space_cfg.vocab_size,
        ) = self.shape;
        let arch = architecture(&spec.arch, family.name(), &space_cfg)?;
        let timed = self.cfg.limits.max_latency_ms.is_some();
        costs::of_architecture(family, &space_cfg, &arch, &self.example, timed)
            .with_context(|| format!("limits: pricing {arch}"))
    }

    /// Whether the proposal fits; `Err` only when it cannot be priced.
    pub fn admits(&self, parameters: &str) -> Result<bool> {
        Ok(self.cfg.limits.admits(&self.price(parameters)?))
    }
}

/// The error after [`MAX_REJECTED_IN_A_ROW`] proposals over the limits.
pub fn too_many_rejected(limits: &Limits) -> anyhow::Error {
    anyhow::anyhow!(
        "the tuner proposed {MAX_REJECTED_IN_A_ROW} architectures in a row over the limits \
         ({}); raise them (the smallest architectures of the space may not fit)",
        limits.describe()
    )
}
