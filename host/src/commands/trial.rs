//! `archon trial`: the built-in trial. The manager runs it as a child process with
//! ARCHON_EXPERIMENT_DIR and ARCHON_PARAMETERS; it trains that architecture of the
//! experiment's built-in space as `[trial]` configures and reports each epoch's test
//! accuracy on stdout with the metric protocol. A budget from a multi-fidelity tuner
//! (`ARCHON_BUDGET`) is its number of epochs: the first that many of `trial.epochs`'
//! schedule (or a schedule that long, if longer). Such a trial saves its weights in its
//! folder (`checkpoint.safetensors`, `checkpoint.json`), and a promoted one
//! (`ARCHON_RESUME_FROM`: the promoted trial's folder) continues from them — the same
//! weights, the schedule and the data order going on where they stopped (only SGD's
//! momentum starts again) — instead of training from scratch.

use anyhow::{Context, Result};
use archon_core::{child::train_child, plugins::SearchPath};
use archon_store::Store;
use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

/// Runs the built-in trial.
pub fn run(search_path: &SearchPath) -> Result<ExitCode> {
    let dir = PathBuf::from(std::env::var("ARCHON_EXPERIMENT_DIR").context(
        "ARCHON_EXPERIMENT_DIR is not set: `archon trial` is run by the experiment manager",
    )?);
    let parameters = parameters()?;
    let store = Store::open_read_only(&dir)?;
    let (cfg, config_dir) = archon_experiment::config::ExperimentConfig::of_store(&store)?;
    let mut spec = cfg.trial_spec(&config_dir, parameters.clone())?;
    let mut checkpoint = None;
    if let Ok(budget) = std::env::var("ARCHON_BUDGET") {
        // A multi-fidelity tuner's budget: the first `b` epochs of the schedule.
        let b: f64 = budget
            .parse()
            .with_context(|| format!("ARCHON_BUDGET={budget:?} is not a number"))?;
        let b = (b.round() as usize).max(1);
        spec.epochs = spec.epochs.max(b);
        spec.stop_epoch = Some(b);
        let own = trial_dir(&store)?;
        spec.save = Some(own.join(CHECKPOINT));
        let parameters = parameters_json(&parameters)?;
        if let Ok(from) = std::env::var("ARCHON_RESUME_FROM") {
            match resumable(Path::new(&from), &parameters, b) {
                Ok((epoch, tse)) => {
                    println!("continuing from {from} after epoch {epoch} (promotion)");
                    spec.load = Some(Path::new(&from).join(CHECKPOINT));
                    spec.start_epoch = epoch;
                    spec.train_loss_before = tse;
                }
                Err(why) => println!("training from scratch: {why:#}"),
            }
        }
        checkpoint = Some((own, b, parameters));
    }
    let trained = train_child(&spec, search_path, false)?;
    if let Some((own, epoch, parameters)) = checkpoint {
        let meta = own.join(CHECKPOINT_META);
        let text =
            serde_json::json!({"epoch": epoch, "parameters": parameters, "tse": trained.tse})
                .to_string();
        std::fs::write(&meta, text).with_context(|| format!("writing {}", meta.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The weights a budgeted trial leaves in its folder, and what they are.
const CHECKPOINT: &str = "checkpoint.safetensors";
const CHECKPOINT_META: &str = "checkpoint.json";

/// This trial's folder.
fn trial_dir(store: &Store) -> Result<PathBuf> {
    let id: u64 = std::env::var("ARCHON_TRIAL_ID")
        .context("ARCHON_TRIAL_ID is not set")?
        .parse()
        .context("ARCHON_TRIAL_ID is not a number")?;
    Ok(store.trial_dir(id))
}

/// The trial's parameters: `ARCHON_PARAMETERS`, or for large ones the file
/// `ARCHON_PARAMETERS_FILE` names.
fn parameters() -> Result<String> {
    if let Ok(p) = std::env::var("ARCHON_PARAMETERS") {
        return Ok(p);
    }
    let file = std::env::var("ARCHON_PARAMETERS_FILE")
        .context("neither ARCHON_PARAMETERS nor ARCHON_PARAMETERS_FILE is set")?;
    std::fs::read_to_string(&file).with_context(|| format!("reading ARCHON_PARAMETERS_FILE {file}"))
}

fn parameters_json(parameters: &str) -> Result<serde_json::Value> {
    serde_json::from_str(parameters).context("ARCHON_PARAMETERS is not JSON")
}

/// The epoch the checkpoint in `from` reached and the sum of the training losses until
/// then, if it is of these parameters and short of `budget`.
fn resumable(from: &Path, parameters: &serde_json::Value, budget: usize) -> Result<(usize, f64)> {
    let meta_path = from.join(CHECKPOINT_META);
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&meta_path)
            .with_context(|| format!("no checkpoint ({})", meta_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", meta_path.display()))?;
    if &meta["parameters"] != parameters {
        anyhow::bail!(
            "the checkpoint in {} is of other parameters",
            from.display()
        );
    }
    let epoch = meta["epoch"]
        .as_u64()
        .with_context(|| format!("{}: no epoch", meta_path.display()))? as usize;
    if epoch >= budget {
        anyhow::bail!("the checkpoint is at epoch {epoch}, not short of the budget {budget}");
    }
    let tse = meta["tse"]
        .as_f64()
        .with_context(|| format!("{}: no tse", meta_path.display()))?;
    Ok((epoch, tse))
}
