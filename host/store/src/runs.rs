//! The experiments of a runs folder as the commands address them: a new experiment's
//! folder and id, an id's folder, a config's folder. Shared by `experiment`, `search` and the benchmarks that record experiments.

use crate::{ExperimentStatus, Store};
use anyhow::{bail, Context, Result};
use archon_core::args::RunsDir;
use std::path::{Path, PathBuf};

/// The folder of a config file (its relative paths are relative to it), absolute.
pub fn config_dir_of(config: &Path) -> Result<PathBuf> {
    config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .canonicalize()
        .with_context(|| format!("the folder of {}", config.display()))
}

/// An experiment's id: its folder's name.
pub fn id_of(dir: &Path) -> String {
    dir.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string()
}

/// The folder of experiment `id` in `runs`, which must hold one.
pub fn experiment_dir(runs: &RunsDir, id: &str) -> Result<PathBuf> {
    let dir = runs.path.join(id);
    if !dir.join("experiment.db").is_file() {
        bail!(
            "no experiment {id:?} in {} (see `archon experiment list --runs-dir {}`)",
            runs.path.display(),
            runs.path.display()
        );
    }
    Ok(dir)
}

/// Creates a new experiment folder under `runs` and records the config in its store.
pub fn record_new(runs: &RunsDir, name: &str, text: &str, config_dir: &Path) -> Result<PathBuf> {
    if let Some(problem) = archon_core::spec::name::problem(name) {
        bail!("name: {problem}");
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let id = format!(
        "{}-{:08x}",
        name,
        (nanos as u64 ^ (std::process::id() as u64) << 32) as u32
    );
    let dir = runs.path.join(&id);
    let store = Store::open(&dir)?;
    store.set_meta("id", &id)?;
    store.set_meta("config", text)?;
    store.set_meta("config_dir", &config_dir.display().to_string())?;
    store.set_meta("created", &crate::now().to_string())?;
    store.set_status(ExperimentStatus::Created)?;
    Ok(dir)
}
