//! The `[space]` section shared by search and experiment configs, and how their
//! relative paths resolve.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The search space: a built-in space with options, or an NNI-format JSON file.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaceSection {
    /// A space of the hub (`archon space list`).
    pub builtin: Option<String>,
    /// An NNI-format search space JSON file (relative to the config file).
    pub file: Option<PathBuf>,
    /// An NNI-format search space inline, as JSON text (what an NNI config's inline
    /// `searchSpace` becomes).
    pub json: Option<String>,
    /// The built-in space's options.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub options: toml::Table,
    /// Built-in trial: training settings searched with the architecture, as NNI
    /// search-space entries — `lr`, `batch_size`, `drop_path`, `cutout`, e.g. `{ lr =
    /// { _type = "loguniform", _value = [0.001, 0.3] }, batch_size = { _type =
    /// "choice", _value = [32, 64] } }`; they override `trial.lr`/`trial.batch_size`,
    /// and a tuner that does not read a type refuses the space naming it.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub hyperparameters: toml::Table,
}

/// `path` relative to the config file's folder (absolute paths stay).
pub fn resolve_relative(config_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        config_dir.join(path)
    }
}
