//! `archon view` and `archon report`.

use crate::cli::{ReportArgs, ViewArgs};
use anyhow::{bail, Result};
use archon_view as view;
use archon_view::ViewOptions;
use std::{io::Write, process::ExitCode};

/// Runs `archon view` (until interrupted).
pub fn run(args: &ViewArgs) -> Result<ExitCode> {
    if !args.runs.path.is_dir() {
        bail!(
            "--runs-dir {}: no such folder (experiments are created there by `archon experiment run` and `archon search`)",
            args.runs.path.display()
        );
    }
    if let Some(id) = &args.id {
        if !args.runs.path.join(id).join("experiment.db").is_file() {
            bail!("no experiment {id:?} in {}", args.runs.path.display());
        }
    }
    let opts = ViewOptions {
        runs: args.runs.path.clone(),
        host: args.host,
        port: args.port,
        allow_remote: args.allow_remote,
    };
    let id = args.id.clone();
    view::serve(&opts, |url| {
        match &id {
            Some(id) => println!("archon view: {url}#/exp/{id}"),
            None => println!("archon view: {url}"),
        }
        let _ = std::io::stdout().flush();
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `archon report`.
pub fn report(args: &ReportArgs) -> Result<ExitCode> {
    let dir = args.runs.path.join(&args.id);
    if args.id.contains(['/', '\\']) || !dir.join("experiment.db").is_file() {
        bail!(
            "no experiment {:?} in {} (see `archon experiment list --runs-dir {}`)",
            args.id,
            args.runs.path.display(),
            args.runs.path.display()
        );
    }
    for file in view::report::write_report(&dir, &args.out)? {
        println!("{file}");
    }
    Ok(ExitCode::SUCCESS)
}
