//! Command-line arguments (clap). Turned into validated settings in `lib.rs`.

use clap::{Args as ClapArgs, Parser, Subcommand};
use std::path::PathBuf;

/// archon — neural architecture search with every algorithm as a run-time plugin.
#[derive(Debug, Parser)]
#[command(name = "archon", version, about, long_about = None)]
pub struct Args {
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also look for plugins in this folder (repeatable; searched first).
    #[arg(long = "plugin-dir", value_name = "DIR", global = true)]
    pub plugin_dirs: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, inspect and check plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Drive a tuner plugin through a toy search space end to end.
    Demo(DemoArgs),
    /// Show archon's versions and where it looks for plugins.
    Version,
}

/// `archon plugins ...`
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Every plugin found, with its kind, version, path and whether it can be loaded.
    List,
    /// Everything a plugin says about itself (by name or by path).
    Info {
        /// A plugin name (as in `plugins list`) or a path to a plugin library.
        plugin: String,
    },
    /// Run the conformance kit on one plugin (by name or path) and print a table.
    Check {
        /// A plugin name (as in `plugins list`) or a path to a plugin library.
        plugin: String,
    },
}

/// `archon demo`
#[derive(Debug, ClapArgs)]
pub struct DemoArgs {
    /// The tuner plugin to drive.
    #[arg(long, default_value = "random")]
    pub tuner: String,
    /// How many trials to run.
    #[arg(long, default_value_t = 24)]
    pub trials: u64,
    /// Seed for the tuner.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}
