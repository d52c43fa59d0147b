//! What a search starts from: the command line's overrides ([`RunOptions`]) and the
//! data and space made ready for the supernet ([`prepare`]).

use super::config::SearchConfig;
use anyhow::{bail, Result};
use archon_core::{
    plugins::SearchPath,
    spec::{data, ExportFormat},
};
use archon_plugin_api::tch::Device;
use archon_spaces::{
    data::Dataset,
    hub::{self, SpaceConfig, SpaceFamily},
    parse_device,
};
use std::path::Path;

/// Overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Retrain the found architecture from scratch.
    pub retrain: bool,
    /// Export the retrained child into the experiment's folder.
    pub export: Option<ExportFormat>,
    /// Overrides `search.device`.
    pub device: Option<String>,
    /// Overrides `search.epochs`.
    pub epochs: Option<usize>,
    /// No progress bars (tests, pipes); summaries are still printed.
    pub quiet: bool,
    /// Continue from the experiment's last checkpoint.
    pub resume: bool,
    /// The run's time budget: the retraining gets the epochs that fit what is left.
    pub budget: Option<archon_core::budget::Budget>,
}

/// The data and space of a search, ready to build the supernet.
pub struct Prepared {
    pub family: &'static dyn SpaceFamily,
    pub device: Device,
    pub space_cfg: SpaceConfig,
    pub weight_split: Dataset,
    pub arch_split: Dataset,
    pub summary: String,
}

/// Loads the data, takes the search's subset (repeating channels after it: a 3-channel
/// copy of all of Fashion-MNIST would be 0.6 GB), splits it into weight-training and
/// architecture-validation halves, and fits the space to it.
pub fn prepare(
    cfg: &SearchConfig,
    config_dir: &Path,
    search_path: &SearchPath,
) -> Result<Prepared> {
    let family = hub::space(cfg.space.builtin.as_deref().unwrap_or_default())?;
    let device = parse_device(&cfg.search.device)?;
    let loaded = data::load(&cfg.data_spec(config_dir))?;
    let mut space_cfg = cfg.space_spec()?.config(search_path)?;
    (
        space_cfg.input_channels,
        space_cfg.image_size,
        space_cfg.num_classes,
        space_cfg.vocab_size,
    ) = (
        loaded.channels,
        loaded.image_size,
        loaded.classes,
        loaded.vocab,
    );
    let mut pool = loaded
        .train
        .subset(cfg.data.train_subset.unwrap_or(usize::MAX), cfg.seed);
    if let Some(c) = cfg.data.channels {
        data::repeat_channels(&mut pool, loaded.channels, c, &cfg.data.dataset)?;
        space_cfg.input_channels = c;
    }
    let summary = loaded.summary.clone();
    drop(loaded);
    let (weight_split, arch_split) = pool.split(1.0 - cfg.data.arch_fraction, cfg.seed);
    if weight_split.is_empty() || arch_split.is_empty() {
        bail!(
            "data: {} training examples are too few to split into weight and architecture halves",
            pool.len()
        );
    }
    Ok(Prepared {
        family,
        device,
        space_cfg,
        weight_split,
        arch_split,
        summary,
    })
}
