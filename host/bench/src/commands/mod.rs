//! One module per `archon bench` subcommand. They print through the reporter (their
//! tables and JSON are notes; per-seed lines are progress), never to the terminal.

mod final_bench;
mod ground_truth;
pub mod one_shot;
mod quality;
mod rank;
mod tuners;

use crate::args::BenchCommand;
use anyhow::Result;
use archon_core::plugins::SearchPath;
use std::process::ExitCode;

/// Runs an `archon bench` subcommand.
pub fn run(cmd: BenchCommand, search_path: &SearchPath, quiet: bool) -> Result<ExitCode> {
    match cmd {
        BenchCommand::GroundTruth(args) => ground_truth::ground_truth(&args, search_path, quiet),
        BenchCommand::Table(args) => ground_truth::table(&args, search_path),
        BenchCommand::Quality(args) => quality::run(&args, search_path, quiet),
        BenchCommand::Final(args) => final_bench::run(&args, search_path, quiet),
        BenchCommand::Rank(args) => rank::run(&args, search_path),
        BenchCommand::Tuners(args) => tuners::run(&args, search_path),
        BenchCommand::GroundTruthWorker => {
            crate::ground_truth::worker::serve(search_path).map(|()| ExitCode::SUCCESS)
        }
        BenchCommand::OneShot(args) => one_shot::run(&args, search_path),
    }
}
