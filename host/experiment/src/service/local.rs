//! The local training service: runs one trial as a child process (in its own process
//! group), streams its metric lines to the manager, writes its output to per-trial log
//! files, and enforces the timeout and `stop` (SIGTERM, then SIGKILL after a grace
//! period). The process is always reaped: no zombies, no orphans.

use super::{Event, Outcome, TrainingService, TrialSpec};
use archon_store::protocol::parse_line;
use std::{process::Stdio, time::Duration};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
    sync::{mpsc, watch},
    time::Instant,
};

fn signal_group(child: &Child, signal: i32) {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) on our own child's process group; no memory is involved.
        unsafe {
            libc::kill(-(pid as i32), signal);
        }
    }
}

/// SIGTERM to the trial's process group, SIGKILL after `grace`; then reap.
async fn terminate(child: &mut Child, grace: Duration) {
    signal_group(child, libc::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        signal_group(child, libc::SIGKILL);
    }
    let _ = child.wait().await;
    // Whatever else is left in the group (grandchildren) goes too.
    signal_group(child, libc::SIGKILL);
}

/// Runs one attempt to its end, sending events to `events`.
pub async fn run_trial(
    spec: TrialSpec,
    events: mpsc::UnboundedSender<Event>,
    stop: watch::Receiver<bool>,
) {
    let (id, attempt) = (spec.id, spec.attempt);
    let outcome = match spawn(&spec).await {
        Ok((child, log)) => follow(child, log, &spec, &events, stop).await,
        Err(why) => Outcome::SpawnFailed(why),
    };
    let _ = events.send(Event::Ended {
        id,
        attempt,
        outcome,
    });
}

/// Starts the attempt in its own process group, stderr into `stderr.log`; returns the
/// process and `stdout.log` (stdout is piped, to be read for metrics).
async fn spawn(spec: &TrialSpec) -> Result<(Child, tokio::fs::File), String> {
    tokio::fs::create_dir_all(&spec.log_dir)
        .await
        .map_err(|e| format!("creating {}: {e}", spec.log_dir.display()))?;
    let open = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(spec.log_dir.join(name))
    };
    let (stdout_log, stderr_log) = match (open("stdout.log"), open("stderr.log")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return Err(format!(
                "opening the trial logs in {}: {e}",
                spec.log_dir.display()
            ))
        }
    };
    let mut cmd = Command::new(&spec.command[0]);
    cmd.args(&spec.command[1..])
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr_log))
        .process_group(0)
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", spec.command[0]))?;
    Ok((child, tokio::fs::File::from_std(stdout_log)))
}

/// Copies the attempt's stdout into `log`, sends its metrics, and ends it at its
/// timeout or when asked to stop; returns how it ended.
async fn follow(
    mut child: Child,
    mut log: tokio::fs::File,
    spec: &TrialSpec,
    events: &mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
) -> Outcome {
    let (id, attempt) = (spec.id, spec.attempt);
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let deadline = spec.timeout.map(|t| Instant::now() + t);
    let expired = async move {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expired);
    let mut bad_metric: Option<String> = None;
    let mut stdout_open = true;
    let outcome = loop {
        tokio::select! {
            line = lines.next_line(), if stdout_open => match line {
                Ok(Some(line)) => {
                    let _ = log.write_all(format!("{line}\n").as_bytes()).await;
                    match parse_line(&line) {
                        Some(Ok(metric)) => {
                            let _ = events.send(Event::Metric { id, attempt, metric });
                        }
                        Some(Err(why)) => {
                            bad_metric.get_or_insert(why);
                        }
                        None => {}
                    }
                }
                _ => stdout_open = false,
            },
            status = child.wait(), if !stdout_open => {
                break Outcome::Exited { code: status.ok().and_then(|s| s.code()), bad_metric: bad_metric.take() };
            }
            _ = &mut expired => {
                terminate(&mut child, spec.grace).await;
                break Outcome::TimedOut;
            }
            Ok(()) = stop.changed() => {
                terminate(&mut child, spec.grace).await;
                break Outcome::Stopped;
            }
        }
    };
    let _ = log.flush().await;
    outcome
}

/// Trials as child processes of the manager.
#[derive(Debug, Default)]
pub struct LocalService;

impl TrainingService for LocalService {
    fn launch(
        &self,
        spec: TrialSpec,
        events: mpsc::UnboundedSender<Event>,
        stop: watch::Receiver<bool>,
    ) {
        tokio::spawn(run_trial(spec, events, stop));
    }
}
