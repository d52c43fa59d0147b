//! The space a command builds ([`SpaceSpec`]): its options as JSON values, the input
//! shape, classes and vocabulary, and an optional cell plugin; turned into the spaces
//! crate's [`SpaceConfig`] in one step.

use crate::plugins::{resolve, SearchPath};
use anyhow::{Context, Result};
use archon_plugin_api::{CellClient, Options, PluginError, PluginKind};
use archon_spaces::hub::{CellPlugin, SpaceConfig};
use std::sync::Arc;

/// A space's options and the shape it is built for.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceSpec {
    /// The space's options (`archon space show NAME` lists them).
    pub options: serde_json::Map<String, serde_json::Value>,
    /// The input shape: channels, height, width (Fashion-MNIST's 1x28x28 by default).
    pub input: [i64; 3],
    /// The number of classes.
    pub classes: i64,
    /// The vocabulary size, for text spaces.
    pub vocab: i64,
    /// A Cell plugin (name or path) to build every cell of the `custom-cell` space with.
    pub cell_plugin: Option<String>,
}

impl Default for SpaceSpec {
    fn default() -> Self {
        SpaceSpec {
            options: serde_json::Map::new(),
            input: [1, 28, 28],
            classes: 10,
            vocab: 10_000,
            cell_plugin: None,
        }
    }
}

impl SpaceSpec {
    /// The default spec with the options of a config's `[space.options]` table.
    pub fn from_toml(options: &toml::Table) -> Result<Self> {
        let options = match serde_json::to_value(options)? {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a TOML table serialises to a JSON object"),
        };
        Ok(SpaceSpec {
            options,
            ..SpaceSpec::default()
        })
    }

    /// The spaces crate's configuration (loading the cell plugin, if any).
    pub fn config(&self, search_path: &SearchPath) -> Result<SpaceConfig> {
        Ok(SpaceConfig {
            input_channels: self.input[0],
            image_size: self.input[1],
            num_classes: self.classes,
            vocab_size: self.vocab,
            cell_plugin: self
                .cell_plugin
                .as_deref()
                .map(|name| cell_plugin(name, search_path))
                .transpose()?,
            options: Options::from_json_str(
                &serde_json::Value::Object(self.options.clone()).to_string(),
            )?,
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_options_become_json_values_of_their_type() {
        let table: toml::Table =
            toml::from_str("width = 16\nauxiliary = true\nop = \"conv\"").unwrap();
        let spec = SpaceSpec::from_toml(&table).unwrap();
        assert_eq!(spec.options["width"], serde_json::json!(16));
        assert_eq!(spec.options["auxiliary"], serde_json::json!(true));
        assert_eq!(spec.options["op"], serde_json::json!("conv"));
        assert_eq!((spec.input, spec.classes), ([1, 28, 28], 10));
    }
}
