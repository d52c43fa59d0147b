//! The search space of a classic experiment as NNI JSON text: read from the config's
//! `space.file` or given inline in `space.json`, or generated from the built-in space and its options.

use super::config::{resolve_relative, ExperimentConfig};
use anyhow::{bail, Context, Result};
use archon_core::spec::SpaceSpec;
use std::path::Path;

/// The search space of `cfg` (from the folder `config_dir`) as NNI JSON text; with
/// `trial.batch`, checked to be one `choice` of parameter sets.
pub fn search_space_json(cfg: &ExperimentConfig, config_dir: &Path) -> Result<String> {
    let text = read_space(cfg, config_dir)?;
    if cfg.trial.batch {
        check_batch_space(&text)?;
    }
    Ok(text)
}

/// NNI's BatchTuner space: exactly one key, a `choice` whose candidates are all
/// objects (the parameter sets trials receive whole).
pub fn check_batch_space(text: &str) -> Result<()> {
    let space: serde_json::Value = serde_json::from_str(text).context("the search space")?;
    let entries = space.as_object().map(|m| m.iter().collect::<Vec<_>>());
    let [(key, entry)] = entries.as_deref().unwrap_or_default() else {
        bail!(
            "trial.batch (NNI's BatchTuner): the search space must have exactly one key, \
             e.g. {{\"combine_params\": {{\"_type\": \"choice\", \"_value\": [{{...}}, ...]}}}}"
        );
    };
    if entry.get("_type").and_then(serde_json::Value::as_str) != Some("choice") {
        bail!("trial.batch (NNI's BatchTuner): {key:?} must be a `choice` of parameter sets");
    }
    let candidates = entry.get("_value").and_then(serde_json::Value::as_array);
    match candidates {
        Some(c) if !c.is_empty() && c.iter().all(serde_json::Value::is_object) => Ok(()),
        _ => bail!(
            "trial.batch (NNI's BatchTuner): {key:?}._value must be a non-empty list of \
             parameter sets (objects such as {{\"lr\": 0.1}})"
        ),
    }
}

fn read_space(cfg: &ExperimentConfig, config_dir: &Path) -> Result<String> {
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
        bail!("internal: a search space is a JSON object");
    };
    super::hyperparameters::extend_space(&mut json, &cfg.space.hyperparameters)?;
    Ok(serde_json::Value::Object(json).to_string())
}

#[cfg(test)]
mod tests {
    use super::check_batch_space;

    #[test]
    fn a_batch_space_is_one_choice_of_parameter_sets() {
        check_batch_space(r#"{"p": {"_type": "choice", "_value": [{"x": 1}, {"x": 2}]}}"#).unwrap();
        for (space, expected) in [
            (r#"{}"#, "exactly one key"),
            (
                r#"{"a": {"_type": "choice", "_value": [{}]}, "b": {"_type": "choice", "_value": [{}]}}"#,
                "exactly one key",
            ),
            (
                r#"{"p": {"_type": "uniform", "_value": [0, 1]}}"#,
                "\"p\" must be a `choice`",
            ),
            (
                r#"{"p": {"_type": "choice", "_value": [1, 2]}}"#,
                "\"p\"._value must be a non-empty list of parameter sets",
            ),
        ] {
            let e = check_batch_space(space).unwrap_err().to_string();
            assert!(e.contains(expected), "{space}: {e}");
        }
    }
}
