//! `archon search CONFIG`: a one-shot search recorded as an experiment.

use super::experiment::{id_of, record_new};
use crate::{
    cli::SearchArgs,
    experiment::store::Store,
    plugins::SearchPath,
    search::{self, RunOptions, SearchConfig},
};
use anyhow::{Context, Result};
use std::{io::IsTerminal, path::Path, process::ExitCode};

/// Runs `archon search`.
pub fn run(args: &SearchArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading the search config {}", args.config.display()))?;
    let cfg = SearchConfig::parse(&text, &args.config)?;
    let config_dir = args
        .config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .canonicalize()?;
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
        device: args.device.clone(),
        epochs: args.epochs,
        quiet: !std::io::stderr().is_terminal(),
    };
    let outcome = match search::run(&cfg, &config_dir, &store, search_path, &opts) {
        Ok(o) => o,
        Err(e) => {
            store.set_meta("status", "FAILED")?;
            store.set_meta("error", &format!("{e:#}"))?;
            return Err(e);
        }
    };
    println!(
        "search took {:.1} s ({:.1} images/s)",
        outcome.search_seconds, outcome.images_per_second
    );
    println!("architecture: {}", outcome.architecture);
    if let Some(g) = &outcome.genotype {
        println!("genotype: {g}");
    }
    println!(
        "exported to {}",
        dir.join("architecture.json").display()
    );
    if let Some(a) = outcome.retrain_accuracy {
        println!("retrained child: test accuracy {a:.4}");
    }
    Ok(ExitCode::SUCCESS)
}
