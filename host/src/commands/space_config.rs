//! Turning `--option KEY=VALUE`, `--input` and `--classes` into a space configuration.

use crate::{
    cli::SpaceArgs,
    plugins::{resolve, SearchPath},
};
use anyhow::{bail, Context, Result};
use archon_plugin_api::{CellClient, Options, PluginError, PluginKind};
use archon_spaces::hub::{CellPlugin, SpaceConfig};
use std::sync::Arc;

/// Loads the cell plugin `name` and wraps its constructor for the spaces crate.
fn cell_plugin(name: &str, search_path: &SearchPath) -> Result<CellPlugin> {
    let plugin = resolve(name, search_path)?;
    let new_cell = plugin
        .module()
        .new_cell()
        .filter(|_| plugin.kinds.contains(&PluginKind::Cell))
        .with_context(|| {
            format!(
                "plugin {:?} is not a cell plugin (it provides: {})",
                plugin.name,
                plugin.kinds_text()
            )
        })?;
    Ok(CellPlugin {
        name: plugin.name.clone(),
        create: Arc::new(move |options: &str| -> Result<CellClient, PluginError> {
            new_cell(options.into())
                .into_result()
                .map(CellClient::from_box)
        }),
    })
}

/// The validated configuration of `args`.
pub fn space_config(args: &SpaceArgs, search_path: &SearchPath) -> Result<SpaceConfig> {
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
        cell_plugin: args
            .cell_plugin
            .as_deref()
            .map(|name| cell_plugin(name, search_path))
            .transpose()?,
        options: Options::from_json_str(&serde_json::Value::Object(map).to_string())?,
    })
}
