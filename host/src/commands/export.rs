//! `archon export ID --format F`: a finished search's retrained child, re-evaluated
//! from its saved weights and exported.

use crate::cli::ExportArgs;
use anyhow::{bail, Context, Result};
use archon_core::{child::train_child, plugins::SearchPath, spec::Export};
use archon_search::{SearchConfig, CHILD_WEIGHTS};
use archon_store::runs::experiment_dir;
use archon_store::Store;
use std::process::ExitCode;

/// Runs `archon export`.
pub fn run(args: &ExportArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let dir = experiment_dir(&args.runs, &args.id)?;
    let weights = dir.join(CHILD_WEIGHTS);
    let arch_path = dir.join("architecture.json");
    if !weights.is_file() || !arch_path.is_file() {
        bail!(
            "experiment {} has no retrained child ({} and architecture.json): export works on one-shot searches run with --retrain (`archon search CONFIG --retrain --export {}` does both); for other weights use `archon train --load FILE --epochs 0 --export`",
            args.id,
            CHILD_WEIGHTS,
            args.format.name()
        );
    }
    let store = Store::open_read_only(&dir)?;
    let config_dir = store.config_dir()?;
    let cfg = SearchConfig::parse(&store.config_text()?, &config_dir.join("search.toml"))
        .context("the experiment's recorded search config")?;
    let arch = std::fs::read_to_string(&arch_path)
        .with_context(|| format!("reading {}", arch_path.display()))?;
    let mut spec = cfg.retrain_spec(&config_dir, arch)?;
    spec.epochs = 0;
    spec.load = Some(weights);
    spec.export = Some(Export {
        format: args.format,
        path: args
            .out
            .clone()
            .unwrap_or_else(|| dir.join(args.format.default_file())),
    });
    train_child(&spec, search_path, true)?;
    Ok(ExitCode::SUCCESS)
}
