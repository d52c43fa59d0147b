//! `archon search CONFIG`: a one-shot search recorded as an experiment.

use super::interrupted::interrupted_hint;
use crate::cli::SearchArgs;
use anyhow::{Context, Result};
use archon_core::plugins::SearchPath;
use archon_core::spec::ExportFormat;
use archon_search as search;
use archon_search::{RunOptions, SearchConfig};
use archon_store::runs::{config_dir_of, id_of, record_new};
use archon_store::{status::ExperimentStatus, Store};
use clap::ValueEnum;
use std::{io::IsTerminal, path::Path, process::ExitCode};

/// Runs `archon search`.
pub fn run(args: &SearchArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let budget = args
        .budget
        .as_deref()
        .map(|b| archon_core::budget::parse_duration(b, "--budget"))
        .transpose()?
        .map(archon_core::budget::Budget::starting_now);
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading the search config {}", args.config.display()))?;
    let cfg = SearchConfig::parse(&text, &args.config)?;
    let config_dir = config_dir_of(&args.config)?;
    let dir = record_new(
        &args.runs,
        cfg.name.as_deref().unwrap_or("search"),
        &text,
        &config_dir,
    )?;
    println!("experiment {} ({})", id_of(&dir), dir.display());
    let store = Store::open(&dir)?;
    let opts = RunOptions {
        retrain: args.retrain,
        export: args.export,
        device: args.device.clone(),
        epochs: args.epochs,
        quiet: !std::io::stderr().is_terminal(),
        resume: false,
        budget,
    };
    store.set_meta(
        "run_options",
        &serde_json::json!({"retrain": opts.retrain, "export": opts.export.map(ExportFormat::name), "device": opts.device, "epochs": opts.epochs})
            .to_string(),
    )?;
    finish(&dir, &store, &cfg, &config_dir, search_path, &opts)
}

/// Continues the one-shot search in `dir` from its last checkpoint (`experiment
/// resume`), with the options it was started with.
pub(crate) fn resume(dir: &Path, search_path: &SearchPath) -> Result<ExitCode> {
    if Store::open_read_only(dir)?.status()? == Some(ExperimentStatus::Done) {
        anyhow::bail!(
            "the search {} has already finished; see `archon experiment show {}`",
            id_of(dir),
            id_of(dir)
        );
    }
    let store = Store::open(dir)?;
    let config_dir = store.config_dir()?;
    let cfg = SearchConfig::parse(&store.config_text()?, &config_dir.join("search.toml"))?;
    let saved: serde_json::Value = store
        .meta("run_options")?
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let opts = RunOptions {
        retrain: saved["retrain"].as_bool().unwrap_or(false),
        export: saved["export"]
            .as_str()
            .and_then(|name| ExportFormat::from_str(name, false).ok()),
        device: saved["device"].as_str().map(str::to_string),
        epochs: saved["epochs"].as_u64().map(|e| e as usize),
        quiet: !std::io::stderr().is_terminal(),
        resume: true,
        budget: None,
    };
    println!("experiment {} ({})", id_of(dir), dir.display());
    finish(dir, &store, &cfg, &config_dir, search_path, &opts)
}

fn finish(
    dir: &Path,
    store: &Store,
    cfg: &SearchConfig,
    config_dir: &Path,
    search_path: &SearchPath,
    opts: &RunOptions,
) -> Result<ExitCode> {
    let outcome = search::run(cfg, config_dir, store, search_path, opts)?;
    println!(
        "search took {:.1} s ({:.1} images/s)",
        outcome.search_seconds, outcome.images_per_second
    );
    println!("architecture: {}", outcome.architecture);
    if let Some(g) = &outcome.genotype {
        println!("genotype: {g}");
    }
    println!("exported to {}", dir.join("architecture.json").display());
    if let Some(a) = outcome.retrain_accuracy {
        println!("retrained child: test accuracy {a:.4}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The `experiment list` line of a one-shot search.
pub(crate) fn list_line(dir: &Path, store: &Store) -> Result<String> {
    let epochs = store.search_epochs()?;
    let last = epochs
        .last()
        .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.metrics).ok())
        .and_then(|m| m.get("valid_accuracy").and_then(serde_json::Value::as_f64))
        .map(|v| format!("{v:.4}"))
        .unwrap_or_else(|| "-".into());
    Ok(format!(
        "{:<28} {:<9} one-shot {} ({} epochs)  valid accuracy {last}",
        id_of(dir),
        store.status_text()?,
        store.meta("algorithm")?.unwrap_or_default(),
        epochs.len()
    ))
}

/// `experiment show` of a one-shot search: its epochs and what it found.
pub(crate) fn show(dir: &Path, store: &Store) -> Result<()> {
    let epochs = store.search_epochs()?;
    println!(
        "experiment {} ({}), one-shot search with {}, status {}: {} steps, {} epochs",
        id_of(dir),
        dir.display(),
        store.meta("algorithm")?.unwrap_or_default(),
        store.status_text()?,
        store.search_step_count()?,
        epochs.len()
    );
    interrupted_hint(dir, store)?;
    for e in &epochs {
        let epoch = e.epoch;
        let metrics: std::collections::BTreeMap<String, f64> =
            serde_json::from_str(&e.metrics).unwrap_or_default();
        println!("epoch {:>3}: {}", epoch + 1, search::metric_text(&metrics));
    }
    let generations = store.search_generation_count()?;
    if generations > 0 {
        println!("{generations} generations of evolution recorded");
    }
    for (key, what) in [
        ("architecture", "architecture"),
        ("genotype", "genotype"),
        ("retrain_accuracy", "retrained test accuracy"),
        ("error", "error"),
    ] {
        if let Some(v) = store.meta(key)? {
            println!("{what}: {v}");
        }
    }
    Ok(())
}
