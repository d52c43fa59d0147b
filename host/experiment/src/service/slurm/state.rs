//! What Slurm says about a job (`squeue`, `scontrol`, `sacct`) and the outcome it
//! means for the attempt.

use super::Output;
use crate::service::Outcome;
use std::process::Command;

pub(super) fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The job's state and exit code as Slurm knows it, if it knows the job.
pub(super) fn job_state(job: &str) -> Option<(String, Option<i32>)> {
    let exit_of = |text: &str| {
        text.split(':')
            .next()
            .and_then(|c| c.trim().parse::<i32>().ok())
    };
    if let Some(state) = run("squeue", &["-h", "-j", job, "-t", "all", "-o", "%T"]) {
        if !state.is_empty() {
            let code = run("scontrol", &["-o", "show", "job", job]).and_then(|t| {
                t.split_whitespace()
                    .find_map(|w| w.strip_prefix("ExitCode="))
                    .and_then(exit_of)
            });
            return Some((state.lines().next().unwrap_or_default().to_string(), code));
        }
    }
    if let Some(text) = run("scontrol", &["-o", "show", "job", job]) {
        let field = |k: &str| {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .map(str::to_string)
        };
        if let Some(state) = field("JobState=") {
            return Some((state, field("ExitCode=").as_deref().and_then(exit_of)));
        }
    }
    for args in [
        ["-j", job, "-n", "-P", "-X", "-o", "State,ExitCode"].as_slice(),
        ["-c", "-j", job, "-n", "-P", "-o", "State,ExitCode"].as_slice(),
    ] {
        if let Some(text) = run("sacct", args) {
            if let Some(line) = text.lines().find(|l| !l.trim().is_empty()) {
                let (state, code) = line.split_once('|').unwrap_or((line, ""));
                let state = state.split_whitespace().next().unwrap_or(state).to_string();
                return Some((state, exit_of(code)));
            }
        }
    }
    None
}

/// Whether a Slurm state is final.
pub(super) fn finished(state: &str) -> bool {
    !matches!(
        state,
        "PENDING"
            | "CONFIGURING"
            | "RUNNING"
            | "COMPLETING"
            | "SUSPENDED"
            | "REQUEUED"
            | "RESIZING"
            | "SIGNALING"
            | "STAGE_OUT"
    )
}

pub(super) fn outcome(
    state: &str,
    code: Option<i32>,
    out: &mut Output,
    stopped: bool,
    timed_out: bool,
) -> Outcome {
    let code = out.exit_code.or(code);
    match state {
        "COMPLETED" | "FAILED" => Outcome::Exited {
            code: code.or(Some(if state == "COMPLETED" { 0 } else { 1 })),
            bad_metric: out.bad_metric.take(),
        },
        "TIMEOUT" => Outcome::TimedOut,
        s if s.starts_with("CANCELLED") && timed_out => Outcome::TimedOut,
        s if s.starts_with("CANCELLED") && stopped => Outcome::Stopped,
        s if s.starts_with("CANCELLED") => {
            Outcome::SpawnFailed("cancelled outside archon (scancel or an administrator)".into())
        }
        "NODE_FAIL" | "BOOT_FAIL" => Outcome::SpawnFailed(format!("Slurm: {state} (node failure)")),
        "OUT_OF_MEMORY" => {
            Outcome::SpawnFailed("Slurm: OUT_OF_MEMORY (raise mem_per_trial)".into())
        }
        other => Outcome::SpawnFailed(format!("Slurm: job ended as {other}")),
    }
}
