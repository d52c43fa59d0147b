//! Turning `--option KEY=VALUE`, `--input`, `--classes`, `--vocab` and `--cell-plugin`
//! into a [`SpaceSpec`] (and, for commands that build the space, its configuration).

use crate::{cli::SpaceArgs, plugins::SearchPath, spec::SpaceSpec};
use anyhow::{bail, Context, Result};
use archon_spaces::hub::SpaceConfig;

/// The validated spec of `args`.
pub fn space_spec(args: &SpaceArgs) -> Result<SpaceSpec> {
    let mut options = serde_json::Map::new();
    for option in &args.options {
        let Some((key, value)) = option.split_once('=') else {
            bail!("--option {option:?}: expected KEY=VALUE, e.g. --option width=16");
        };
        // Numbers and booleans as JSON; anything else as a string.
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        options.insert(key.trim().to_string(), value);
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
    Ok(SpaceSpec {
        options,
        input: [dims[0], dims[1], dims[2]],
        classes: args.classes,
        vocab: args.vocab,
        cell_plugin: args.cell_plugin.clone(),
    })
}

/// The validated configuration of `args`.
pub fn space_config(args: &SpaceArgs, search_path: &SearchPath) -> Result<SpaceConfig> {
    space_spec(args)?.config(search_path)
}
