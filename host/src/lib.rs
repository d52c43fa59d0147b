//! The `archon` CLI: parses the command line into one validated struct, calls the crate
//! that does the work and renders what it reports. The work lives in the host's crates,
//! one per concern, whose arrows go one way:
//! `archon-core` (specs, plugins, child networks, the reporter) ← `archon-store` (the
//! SQLite store and runs folder) ← `archon-experiment` (classic experiments) and
//! `archon-search` (the one-shot host) ← `archon-view` (the web UI) and `archon-bench`
//! (the research benchmarks) ← this crate.

pub mod cli;
pub mod closed_output;
mod commands;
pub mod config_reference;

// The crates below, under the names the code and the tests have always used.
pub use archon_bench::{ground_truth, quality};
pub use archon_core::{
    budget, child, malloc, number, plugins, progress, readable_error, reporter, spec,
};
pub use archon_experiment as experiment;
pub use archon_search as search;
pub use archon_store as store;
pub use archon_view as view;

use anyhow::Result;
use std::process::ExitCode;

/// Runs one invocation of `archon`.
pub fn run(args: cli::Args) -> Result<ExitCode> {
    init_logging(args.verbose, args.quiet);
    let search_path = plugins::SearchPath::from_env(&args.plugin_dirs);
    match args.command {
        cli::Command::Plugins(cmd) => commands::plugins::run(cmd, &search_path),
        cli::Command::Demo(demo) => commands::demo::run(&demo, &search_path),
        cli::Command::Space(cmd) => commands::space::run(cmd, &search_path),
        cli::Command::Train(train) => commands::train::run(&train, &search_path),
        cli::Command::Experiment(cmd) => commands::experiment::run(cmd, &search_path),
        cli::Command::Search(search) => commands::search::run(&search, &search_path),
        cli::Command::Export(export) => commands::export::run(&export, &search_path),
        cli::Command::Score(score) => commands::score::run(&score, &search_path),
        cli::Command::View(view) => commands::view::run(&view),
        cli::Command::Report(report) => commands::view::report(&report),
        cli::Command::Bench(cmd) => archon_bench::run(cmd, &search_path, args.quiet),
        cli::Command::Trial => commands::trial::run(&search_path),
        cli::Command::Version => commands::version::run(&search_path),
        cli::Command::Config(cli::ConfigCommand::Reference) => commands::config::reference(),
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCHON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
