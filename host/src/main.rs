//! The `archon` binary: parse arguments, run, map the outcome to an exit code.
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    archon::malloc::tune();
    let args = archon::cli::Args::parse();
    let relays = archon::closed_output::install(args.command.on_closed_output());
    let raw = args.verbose > 0 || std::env::var_os("RUST_BACKTRACE").is_some();
    let code = match archon::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", archon::readable_error::render(&err, raw));
            ExitCode::FAILURE
        }
    };
    relays.finish();
    code
}
