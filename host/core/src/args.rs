//! Argument groups that commands of several crates share (the CLI's and the benchmarks'):
//! the space a command works on, turned from `--option KEY=VALUE`, `--input`,
//! `--classes`, `--vocab` and `--cell-plugin` into a [`SpaceSpec`] (and, for commands that
//! build the space, its configuration), and the runs folder.

use crate::{plugins::SearchPath, spec::SpaceSpec};
use anyhow::{bail, Context, Result};
use archon_spaces::hub::SpaceConfig;
use clap::Args as ClapArgs;
use std::path::PathBuf;

/// The space a command works on and its options.
#[derive(Debug, ClapArgs)]
pub struct SpaceArgs {
    /// A space option, `KEY=VALUE` (repeatable; see `archon space show NAME`).
    #[arg(long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// The input shape, `CxHxW` (default: Fashion-MNIST's 1x28x28).
    #[arg(long, default_value = "1x28x28")]
    pub input: String,
    /// The number of classes.
    #[arg(long, default_value_t = SpaceSpec::default().classes)]
    pub classes: i64,
    /// The vocabulary size, for text spaces.
    #[arg(long, default_value_t = SpaceSpec::default().vocab)]
    pub vocab: i64,
    /// A Cell plugin to build every cell of the `custom-cell` space with.
    #[arg(long, value_name = "NAME|PATH")]
    pub cell_plugin: Option<String>,
}

/// `--runs-dir`
#[derive(Debug, ClapArgs)]
pub struct RunsDir {
    /// Where experiments are stored.
    #[arg(long = "runs-dir", default_value = "archon-runs")]
    pub path: PathBuf,
}

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
