//! The Slurm training service: each attempt is a batch job (`sbatch --parsable`) running
//! the same trial command as locally; parameters travel in the environment and a file
//! in the experiment folder (which must be on a filesystem every node sees), metrics
//! through the same stdout protocol, read incrementally from the job's output file.
//! The job's state comes from `squeue`, then `scontrol show job`, then `sacct`; a job
//! that vanished from all three is resolved from the exit line its script appends to
//! its output. Stopping an attempt is `scancel`; a later manager follows a job that is
//! still queued or running instead of submitting it again.

mod output;
mod script;
mod state;
#[cfg(test)]
mod tests;

use super::{Event, Outcome, TrainingService, TrialSpec};
use crate::config::ServiceSection;
use output::Output;
use script::submit;
use state::{finished, job_state, outcome, run};
use std::{
    io::Write,
    path::{Path, PathBuf},
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

/// Follows (or first submits) one attempt to its end.
async fn follow(
    svc: SlurmService,
    spec: TrialSpec,
    events: mpsc::UnboundedSender<Event>,
    stop: watch::Receiver<bool>,
    attach: Option<(String, PathBuf, usize)>,
) {
    let outcome = match attach.map_or_else(|| submitted(&svc, &spec, &events), Ok) {
        Ok((job, out_path, seen)) => {
            watch_job(&svc, &spec, &events, stop, &job, &out_path, seen).await
        }
        Err(why) => Outcome::SpawnFailed(why),
    };
    let _ = events.send(Event::Ended {
        id: spec.id,
        attempt: spec.attempt,
        outcome,
    });
}

/// Submits the attempt and sends its handle; returns the job, its output file and
/// the metric lines already seen (none).
fn submitted(
    svc: &SlurmService,
    spec: &TrialSpec,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<(String, PathBuf, usize), String> {
    let (job, out) = submit(svc, spec)?;
    let _ = events.send(Event::Handle {
        id: spec.id,
        attempt: spec.attempt,
        handle: format!("{job} {}", out.display()),
    });
    Ok((job, out, 0))
}

/// Polls the job and its output until it ends (cancelling it at its timeout or when
/// asked to stop); returns how it ended.
async fn watch_job(
    svc: &SlurmService,
    spec: &TrialSpec,
    events: &mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
    job: &str,
    out_path: &Path,
    seen: usize,
) -> Outcome {
    let mut out = Output {
        path: out_path.to_path_buf(),
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
        out.read(spec, events);
        if !stopped && !timed_out {
            if *stop.borrow_and_update() {
                stopped = true;
                let _ = run("scancel", &[job]);
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                timed_out = true;
                let _ = run("scancel", &[job]);
            }
        }
        match job_state(job) {
            Some((state, code)) if finished(&state) => {
                tokio::time::sleep(svc.poll).await;
                out.read(spec, events);
                copy_stderr(out_path, spec);
                return outcome(&state, code, &mut out, stopped, timed_out);
            }
            Some(_) => lost = 0,
            None if out.exit_code.is_some() => {
                copy_stderr(out_path, spec);
                let code = out.exit_code;
                let state = if code == Some(0) {
                    "COMPLETED"
                } else {
                    "FAILED"
                };
                return outcome(state, code, &mut out, stopped, timed_out);
            }
            None => {
                lost += 1;
                if lost >= LOST_AFTER_POLLS {
                    return Outcome::SpawnFailed(format!(
                        "Slurm job {job} vanished without an exit code (see {})",
                        out_path.display()
                    ));
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
