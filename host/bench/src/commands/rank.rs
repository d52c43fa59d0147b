//! `archon bench rank EXPERIMENT --table TABLE`: how well a finished one-shot search's
//! supernet ranks a ground-truth table's architectures, with the estimate's settings
//! (evaluation size, batch-norm recalibration, fine-tuning) to vary without searching
//! again.

use super::quality::{check_matches, settings_of, supernet_ranking};
use crate::{args::RankArgs, ground_truth::table::Table};
use anyhow::{bail, Context, Result};
use archon_core::plugins::SearchPath;
use archon_core::reporter;
use archon_search::{SearchConfig, SUPERNET_WEIGHTS};
use archon_store::Store;
use std::{path::PathBuf, process::ExitCode};

/// Runs `archon bench rank`.
pub fn run(args: &RankArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let dir = &args.experiment;
    if !dir.join(SUPERNET_WEIGHTS).is_file() {
        bail!(
            "{}: no {SUPERNET_WEIGHTS} here; give the folder of a finished one-shot search (archon search … or archon bench quality … write one per search)",
            dir.display()
        );
    }
    let store = Store::open_read_only(dir)
        .with_context(|| format!("{}: not an experiment folder", dir.display()))?;
    let text = store.config_text()?;
    let config_dir = PathBuf::from(store.meta("config_dir")?.unwrap_or_else(|| ".".into()));
    let cfg = SearchConfig::parse(&text, &dir.join("(recorded config)"))
        .context("the experiment's recorded search config")?;
    let table = Table::load(&args.table)?;
    let recorded = dir.join("(recorded config)");
    check_matches(&cfg, &table, &recorded, &args.table)?;
    let entries = table.entries();
    if entries.is_empty() {
        bail!(
            "{}: the table has no trained architectures yet",
            args.table.display()
        );
    }
    let ranking = supernet_ranking(
        &cfg,
        &config_dir,
        dir,
        (&entries, args.archs, args.sample_seed),
        settings_of(&args.estimate),
        search_path,
    )?;
    if args.json {
        reporter::note(serde_json::to_string_pretty(&ranking)?);
    } else {
        let show = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.3}"));
        reporter::note(format!(
            "{} architectures: Kendall τ {} (by validation loss {}), Spearman ρ {}",
            ranking.architectures,
            show(ranking.kendall),
            show(ranking.kendall_by_loss),
            show(ranking.spearman)
        ));
    }
    Ok(ExitCode::SUCCESS)
}
