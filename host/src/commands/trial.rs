//! `archon trial`: the built-in trial. The manager runs it as a child process with
//! ARCHON_EXPERIMENT_DIR and ARCHON_PARAMETERS; it trains that architecture of the
//! experiment's built-in space as `[trial]` configures and reports each epoch's test
//! accuracy on stdout with the metric protocol. A budget from a multi-fidelity tuner
//! (`ARCHON_BUDGET`) is its number of epochs.

use crate::{child::train_child, experiment::store::Store, plugins::SearchPath};
use anyhow::{Context, Result};
use std::{path::PathBuf, process::ExitCode};

/// Runs the built-in trial.
pub fn run(search_path: &SearchPath) -> Result<ExitCode> {
    let dir = PathBuf::from(std::env::var("ARCHON_EXPERIMENT_DIR").context(
        "ARCHON_EXPERIMENT_DIR is not set: `archon trial` is run by the experiment manager",
    )?);
    let parameters = std::env::var("ARCHON_PARAMETERS").context("ARCHON_PARAMETERS is not set")?;
    let store = Store::open_read_only(&dir)?;
    let (cfg, config_dir) = store.experiment_config()?;
    let mut spec = cfg.trial_spec(&config_dir, parameters)?;
    if let Ok(budget) = std::env::var("ARCHON_BUDGET") {
        // A multi-fidelity tuner's budget is the trial's epochs.
        let b: f64 = budget
            .parse()
            .with_context(|| format!("ARCHON_BUDGET={budget:?} is not a number"))?;
        spec.epochs = (b.round() as usize).max(1);
    }
    train_child(&spec, search_path, false)?;
    Ok(ExitCode::SUCCESS)
}
