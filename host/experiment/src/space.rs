//! The search space of a classic experiment as NNI JSON text: read from the config's
//! `space.file` or given inline in `space.json`, or generated from the built-in space and its options.

use super::config::{resolve_relative, ExperimentConfig};
use anyhow::{Context, Result};
use archon_core::spec::SpaceSpec;
use std::path::Path;

/// The search space of `cfg` (from the folder `config_dir`) as NNI JSON text.
pub fn search_space_json(cfg: &ExperimentConfig, config_dir: &Path) -> Result<String> {
    if let Some(text) = &cfg.space.json {
        archon_plugin_api::SearchSpace::from_json_str(text).context("space.json")?;
        return Ok(text.clone());
    }
    if let Some(file) = &cfg.space.file {
        let path = resolve_relative(config_dir, file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the search space {}", path.display()))?;
        archon_plugin_api::SearchSpace::from_json_str(&text)
            .with_context(|| format!("in {}", path.display()))?;
        return Ok(text);
    }
    let name = cfg.space.builtin.as_deref().context("no space")?;
    let family = archon_spaces::hub::space(name)?;
    let spec = SpaceSpec::from_toml(&cfg.space.options)?;
    let space_cfg = archon_spaces::hub::SpaceConfig {
        options: archon_plugin_api::Options::from_json_str(
            &serde_json::Value::Object(spec.options).to_string(),
        )?,
        vocab_size: spec.vocab,
        ..Default::default()
    };
    let serde_json::Value::Object(mut json) =
        archon_spaces::Child::space_of(family, &space_cfg)?.to_json()
    else {
        anyhow::bail!("internal: a search space is a JSON object");
    };
    super::hyperparameters::extend_space(&mut json, &cfg.space.hyperparameters)?;
    Ok(serde_json::Value::Object(json).to_string())
}
