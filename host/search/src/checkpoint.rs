//! Checkpoints of a one-shot search, taken after every epoch but the last: the
//! trainer's state (from the plugin), every network's weights and options, and where
//! the data splits are. `archon experiment resume` continues from the last one. The
//! weight optimizers' momentum and the trainers' Adam moments are not kept: they
//! restart, which a resumed search shows as a brief bump in the loss.

use super::SearchHost;
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a checkpoint holds.
pub struct Saved {
    /// The last finished epoch.
    pub epoch: usize,
    /// The trainer's state.
    pub trainer: Value,
    /// The host's snapshot (networks, splits).
    pub host: Value,
}

/// The checkpoint folder of an experiment (its state and the networks' weights).
pub fn dir(experiment: &Path) -> PathBuf {
    experiment.join("checkpoint")
}

/// Writes a checkpoint after `epoch`, replacing the previous one only once it is
/// complete (a kill while writing leaves the previous one).
pub fn save(experiment: &Path, epoch: usize, trainer: &Value, host: &SearchHost<'_>) -> Result<()> {
    let tmp = experiment.join("checkpoint.tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    let snapshot = host.snapshot(&tmp)?;
    let state = serde_json::json!({"epoch": epoch, "trainer": trainer, "host": snapshot});
    std::fs::write(tmp.join("state.json"), state.to_string())?;
    let old = experiment.join("checkpoint.old");
    let _ = std::fs::remove_dir_all(&old);
    let current = dir(experiment);
    if current.exists() {
        std::fs::rename(&current, &old)?;
    }
    std::fs::rename(&tmp, &current).with_context(|| format!("writing {}", current.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The last checkpoint, if there is one.
pub fn load(experiment: &Path) -> Result<Option<Saved>> {
    // A kill between the two renames leaves only the previous checkpoint.
    let current = if dir(experiment).join("state.json").is_file() {
        dir(experiment)
    } else if experiment.join("checkpoint.old/state.json").is_file() {
        std::fs::rename(experiment.join("checkpoint.old"), dir(experiment))?;
        dir(experiment)
    } else {
        return Ok(None);
    };
    let path = current.join("state.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is corrupt", path.display()))?;
    Ok(Some(Saved {
        epoch: v["epoch"].as_u64().context("the checkpoint has no epoch")? as usize,
        trainer: v["trainer"].clone(),
        host: v["host"].clone(),
    }))
}
