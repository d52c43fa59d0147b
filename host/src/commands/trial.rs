//! `archon trial`: the built-in trial. The manager runs it as a child process with
//! ARCHON_EXPERIMENT_DIR and ARCHON_PARAMETERS; it trains that architecture of the
//! experiment's built-in space as `[trial]` configures and reports each epoch's test
//! accuracy on stdout with the metric protocol.

use crate::{
    cli::{SpaceArgs, TrainArgs},
    experiment::{config::ExperimentConfig, store::Store},
    plugins::SearchPath,
};
use anyhow::{Context, Result};
use std::{path::PathBuf, process::ExitCode};

/// Runs the built-in trial.
pub fn run(search_path: &SearchPath) -> Result<ExitCode> {
    let dir = PathBuf::from(std::env::var("ARCHON_EXPERIMENT_DIR").context(
        "ARCHON_EXPERIMENT_DIR is not set: `archon trial` is run by the experiment manager",
    )?);
    let parameters = std::env::var("ARCHON_PARAMETERS").context("ARCHON_PARAMETERS is not set")?;
    let store = Store::open_existing(&dir)?;
    let config_dir = PathBuf::from(store.meta("config_dir")?.unwrap_or_else(|| ".".into()));
    let cfg = ExperimentConfig::parse(
        &store
            .meta("config")?
            .context("the experiment has no config")?,
        &config_dir.join("experiment.toml"),
    )?;
    let space = cfg
        .space
        .builtin
        .clone()
        .context("the built-in trial needs space.builtin")?;
    let options = cfg
        .space
        .options
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let t = &cfg.trial;
    let args = TrainArgs {
        space,
        arch: parameters,
        space_args: SpaceArgs {
            options,
            input: "1x28x28".into(),
            classes: 10,
            vocab: 10_000,
            cell_plugin: None,
        },
        epochs: t.epochs,
        batch_size: t.batch_size,
        lr: t.lr,
        cutout: 0,
        drop_path: 0.0,
        aux_weight: 0.4,
        dataset: t.dataset.clone(),
        data_dir: t
            .data_dir
            .as_ref()
            .map(|d| crate::experiment::config::resolve_relative(&config_dir, d)),
        image_size: 32,
        max_len: 64,
        channels: None,
        train_subset: t.train_subset,
        test_subset: t.test_subset,
        device: t.device.clone(),
        seed: cfg.seed,
        save: None,
        report_metrics: true,
    };
    super::train::run(&args, search_path)
}
