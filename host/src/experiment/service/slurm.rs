//! The Slurm training service: each attempt is a batch job (`sbatch --parsable`) running
//! the same trial command as locally; parameters travel in the environment and a file
//! in the experiment folder (which must be on a filesystem every node sees), metrics
//! through the same stdout protocol, read incrementally from the job's output file.
//! The job's state comes from `squeue`, then `scontrol show job`, then `sacct`; a job
//! that vanished from all three is resolved from the exit line its script appends to
//! its output. Stopping an attempt is `scancel`; a later manager follows a job that is
//! still queued or running instead of submitting it again.

use super::{Event, Outcome, TrainingService, TrialSpec};
use crate::experiment::{
    config::{parse_duration, ServiceSection},
    protocol::parse_line,
};
use std::{
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, watch};

/// The line a job script prints after the trial command, with its exit code.
const EXIT_MARKER: &str = "ARCHON_JOB_EXIT";

/// Polls of "no such job anywhere" before a job without an exit line counts as lost.
const LOST_AFTER_POLLS: u32 = 20;

/// The Slurm service for one experiment.
#[derive(Debug, Clone)]
pub struct SlurmService {
    opts: ServiceSection,
    experiment_id: String,
    poll: Duration,
}

impl SlurmService {
    /// A service submitting the jobs of experiment `experiment_id` as `opts` says.
    pub fn new(opts: &ServiceSection, experiment_id: &str) -> Self {
        SlurmService {
            opts: opts.clone(),
            experiment_id: experiment_id.to_string(),
            poll: Duration::from_millis(opts.poll_ms.max(50)),
        }
    }

    /// Where the job files of trial `id` go: the shared folder if given, else the
    /// trial's own folder.
    fn job_dir(&self, spec: &TrialSpec) -> PathBuf {
        match &self.opts.shared_dir {
            Some(d) => d.join(&self.experiment_id).join(spec.id.to_string()),
            None => spec.log_dir.clone(),
        }
    }
}

/// `text` as one single-quoted shell word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Slurm's `--time` for a limit: minutes:seconds, at least one second.
fn slurm_time(limit: Duration) -> String {
    let s = (limit.as_secs() + u64::from(limit.subsec_nanos() > 0)).max(1);
    format!("{}:{:02}", s / 60, s % 60)
}

/// The batch script of an attempt.
fn script(svc: &SlurmService, spec: &TrialSpec, out: &Path, err: &Path) -> String {
    let o = &svc.opts;
    let mut s = String::from("#!/bin/sh\n");
    let mut directive = |d: String| s.push_str(&format!("#SBATCH {d}\n"));
    directive(format!(
        "--job-name=archon-{}-{}",
        svc.experiment_id, spec.id
    ));
    directive(format!("--output={}", out.display()));
    directive(format!("--error={}", err.display()));
    let limit = o
        .time_limit
        .as_deref()
        .and_then(parse_duration)
        .or(spec.timeout);
    if let Some(limit) = limit {
        directive(format!("--time={}", slurm_time(limit)));
    }
    for (flag, value) in [
        ("--partition", o.partition.clone()),
        ("--account", o.account.clone()),
        ("--qos", o.qos.clone()),
        ("--cpus-per-task", o.cpus_per_trial.map(|c| c.to_string())),
        (
            "--gres",
            o.gpus_per_trial
                .filter(|&g| g > 0)
                .map(|g| format!("gpu:{g}")),
        ),
        ("--mem", o.mem_per_trial.clone()),
    ] {
        if let Some(v) = value {
            directive(format!("{flag}={v}"));
        }
    }
    for extra in &o.extra_args {
        directive(extra.clone());
    }
    s.push_str(&format!(
        "cd {} || exit 97\n",
        quote(&spec.cwd.display().to_string())
    ));
    for (k, v) in &spec.env {
        s.push_str(&format!("export {k}={}\n", quote(v)));
    }
    let command: Vec<String> = spec.command.iter().map(|c| quote(c)).collect();
    s.push_str(&command.join(" "));
    s.push_str(&format!(
        "\ncode=$?\necho \"{EXIT_MARKER} $code\"\nexit $code\n"
    ));
    s
}

fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The job's state and exit code as Slurm knows it, if it knows the job.
fn job_state(job: &str) -> Option<(String, Option<i32>)> {
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
fn finished(state: &str) -> bool {
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

/// Reads an attempt's output file as it grows.
struct Output {
    path: PathBuf,
    offset: u64,
    partial: String,
    /// Metric lines still to skip (already stored by an earlier manager).
    skip: usize,
    exit_code: Option<i32>,
    bad_metric: Option<String>,
}

impl Output {
    /// New complete lines: metrics go to `events`, everything else (but the exit line)
    /// to the trial's `stdout.log`.
    fn read(&mut self, spec: &TrialSpec, events: &mpsc::UnboundedSender<Event>) {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return;
        };
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_err() {
            return;
        }
        self.offset += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(spec.log_dir.join("stdout.log"))
            .ok();
        while let Some(pos) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=pos).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some(code) = line.strip_prefix(EXIT_MARKER) {
                self.exit_code = code.trim().parse().ok();
                continue;
            }
            match parse_line(line) {
                Some(_) if self.skip > 0 => {
                    self.skip -= 1;
                    continue;
                }
                Some(Ok(metric)) => {
                    let _ = events.send(Event::Metric {
                        id: spec.id,
                        attempt: spec.attempt,
                        metric,
                    });
                }
                Some(Err(why)) => {
                    self.bad_metric.get_or_insert(why);
                }
                None => {}
            }
            if let Some(log) = log.as_mut() {
                let _ = writeln!(log, "{line}");
            }
        }
    }
}

fn outcome(
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

/// Follows (or first submits) one attempt to its end.
async fn follow(
    svc: SlurmService,
    spec: TrialSpec,
    events: mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
    attach: Option<(String, PathBuf, usize)>,
) {
    let (id, attempt) = (spec.id, spec.attempt);
    let end = |outcome| {
        let _ = events.send(Event::Ended {
            id,
            attempt,
            outcome,
        });
    };
    let (job, out_path, seen) = match attach {
        Some((job, out, seen)) => (job, out, seen),
        None => match submit(&svc, &spec) {
            Ok((job, out)) => {
                let _ = events.send(Event::Handle {
                    id,
                    attempt,
                    handle: format!("{job} {}", out.display()),
                });
                (job, out, 0)
            }
            Err(why) => return end(Outcome::SpawnFailed(why)),
        },
    };
    let mut out = Output {
        path: out_path.clone(),
        offset: 0,
        partial: String::new(),
        skip: seen,
        exit_code: None,
        bad_metric: None,
    };
    let deadline = spec
        .timeout
        .map(|t| Instant::now() + t + Duration::from_secs(2));
    let (mut stopped, mut timed_out, mut lost) = (false, false, 0u32);
    loop {
        out.read(&spec, &events);
        if !stopped && !timed_out {
            if *stop.borrow_and_update() {
                stopped = true;
                let _ = run("scancel", &[&job]);
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                timed_out = true;
                let _ = run("scancel", &[&job]);
            }
        }
        match job_state(&job) {
            Some((state, code)) if finished(&state) => {
                tokio::time::sleep(svc.poll).await;
                out.read(&spec, &events);
                copy_stderr(&out_path, &spec);
                return end(outcome(&state, code, &mut out, stopped, timed_out));
            }
            Some(_) => lost = 0,
            None if out.exit_code.is_some() => {
                copy_stderr(&out_path, &spec);
                let code = out.exit_code;
                return end(outcome(
                    if code == Some(0) {
                        "COMPLETED"
                    } else {
                        "FAILED"
                    },
                    code,
                    &mut out,
                    stopped,
                    timed_out,
                ));
            }
            None => {
                lost += 1;
                if lost >= LOST_AFTER_POLLS {
                    return end(Outcome::SpawnFailed(format!(
                        "Slurm job {job} vanished without an exit code (see {})",
                        out_path.display()
                    )));
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(svc.poll) => {}
            _ = stop.changed() => {}
        }
    }
}

fn copy_stderr(out_path: &Path, spec: &TrialSpec) {
    let err = out_path.with_extension("err");
    if let Ok(text) = std::fs::read(&err) {
        if let Ok(mut log) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(spec.log_dir.join("stderr.log"))
        {
            let _ = log.write_all(&text);
        }
    }
}

/// Writes the attempt's script and submits it; returns the job id and output file.
fn submit(svc: &SlurmService, spec: &TrialSpec) -> Result<(String, PathBuf), String> {
    let dir = svc.job_dir(spec);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    std::fs::create_dir_all(&spec.log_dir)
        .map_err(|e| format!("creating {}: {e}", spec.log_dir.display()))?;
    let base = dir.join(format!("job-{}", spec.attempt));
    let (out, err) = (base.with_extension("out"), base.with_extension("err"));
    let _ = std::fs::remove_file(&out);
    let path = base.with_extension("sh");
    std::fs::write(&path, script(svc, spec, &out, &err))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    let result = Command::new("sbatch")
        .arg("--parsable")
        .arg(&path)
        .output()
        .map_err(|e| {
            format!("cannot run sbatch ({e}); is the Slurm client installed and on PATH?")
        })?;
    if !result.status.success() {
        return Err(format!(
            "sbatch refused the job: {}",
            String::from_utf8_lossy(&result.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&result.stdout);
    let job = text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    if job.is_empty() || !job.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return Err(format!("sbatch printed no job id: {text:?}"));
    }
    Ok((job, out))
}

impl TrainingService for SlurmService {
    fn launch(
        &self,
        spec: TrialSpec,
        events: mpsc::UnboundedSender<Event>,
        stop: watch::Receiver<bool>,
    ) {
        tokio::spawn(follow(self.clone(), spec, events, stop, None));
    }

    fn reattach(
        &self,
        spec: TrialSpec,
        handle: &str,
        seen: usize,
        events: mpsc::UnboundedSender<Event>,
        stop: watch::Receiver<bool>,
    ) -> bool {
        let Some((job, out)) = handle.split_once(' ') else {
            return false;
        };
        // Only a job Slurm still knows, or one whose output says how it ended.
        let known = job_state(job).is_some()
            || std::fs::read_to_string(out).is_ok_and(|t| t.contains(EXIT_MARKER));
        if !known {
            return false;
        }
        tokio::spawn(follow(
            self.clone(),
            spec,
            events,
            stop,
            Some((job.to_string(), PathBuf::from(out), seen)),
        ));
        true
    }

    fn cancel(&self, handles: &[String]) {
        for h in handles {
            if let Some(job) = h.split_whitespace().next() {
                let _ = run("scancel", &[job]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_times_and_shell_words() {
        assert_eq!(slurm_time(Duration::from_secs(90)), "1:30");
        assert_eq!(slurm_time(Duration::from_millis(200)), "0:01");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert!(finished("COMPLETED") && finished("TIMEOUT") && !finished("PENDING"));
    }

    #[test]
    fn slurm_states_map_to_outcomes() {
        let out = |exit: Option<i32>| Output {
            path: PathBuf::new(),
            offset: 0,
            partial: String::new(),
            skip: 0,
            exit_code: exit,
            bad_metric: None,
        };
        let exited = |code| Outcome::Exited {
            code,
            bad_metric: None,
        };
        assert_eq!(
            outcome("COMPLETED", Some(0), &mut out(None), false, false),
            exited(Some(0))
        );
        // The script's exit line wins over Slurm's code.
        assert_eq!(
            outcome("FAILED", Some(1), &mut out(Some(3)), false, false),
            exited(Some(3))
        );
        assert_eq!(
            outcome("FAILED", None, &mut out(None), false, false),
            exited(Some(1))
        );
        assert_eq!(
            outcome("TIMEOUT", None, &mut out(None), false, false),
            Outcome::TimedOut
        );
        assert_eq!(
            outcome("CANCELLED", None, &mut out(None), false, true),
            Outcome::TimedOut
        );
        assert_eq!(
            outcome("CANCELLED by 0", None, &mut out(None), true, false),
            Outcome::Stopped
        );
        for state in ["CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"] {
            let Outcome::SpawnFailed(why) = outcome(state, None, &mut out(None), false, false)
            else {
                panic!("{state} is not a failure");
            };
            assert!(
                why.contains(state.split('_').next().unwrap()) || why.contains("cancelled"),
                "{state}: {why}"
            );
        }
    }
}
