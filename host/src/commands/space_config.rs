//! Turning `--option KEY=VALUE`, `--input` and `--classes` into a space configuration.

use crate::cli::SpaceArgs;
use anyhow::{bail, Context, Result};
use archon_plugin_api::Options;
use archon_spaces::hub::SpaceConfig;

/// The validated configuration of `args`.
pub fn space_config(args: &SpaceArgs) -> Result<SpaceConfig> {
    let mut map = serde_json::Map::new();
    for option in &args.options {
        let Some((key, value)) = option.split_once('=') else {
            bail!("--option {option:?}: expected KEY=VALUE, e.g. --option width=16");
        };
        // Numbers and booleans as JSON; anything else as a string.
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        map.insert(key.trim().to_string(), value);
    }
    let dims: Vec<i64> = args
        .input
        .split('x')
        .map(|d| d.trim().parse::<i64>().ok().filter(|&d| d > 0))
        .collect::<Option<Vec<_>>>()
        .filter(|d| d.len() == 3)
        .with_context(|| {
            format!(
                "--input {:?}: expected CxHxW with positive numbers, e.g. 1x28x28",
                args.input
            )
        })?;
    if args.classes < 2 {
        bail!(
            "--classes {}: a classifier needs at least 2 classes",
            args.classes
        );
    }
    if dims[1] != dims[2] {
        bail!("--input {:?}: only square images are supported", args.input);
    }
    Ok(SpaceConfig {
        input_channels: dims[0],
        image_size: dims[1],
        num_classes: args.classes,
        vocab_size: args.vocab,
        options: Options::from_json_str(&serde_json::Value::Object(map).to_string())?,
    })
}
