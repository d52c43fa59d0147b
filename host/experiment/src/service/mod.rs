//! Training services: where and how a trial's attempt runs. The manager owns the one
//! state machine (queue, running set, retries, assessor, store); a service only runs an
//! attempt and reports what happens to it as [`Event`]s — the local service as a child
//! process, the Slurm service as a batch job, the table service by looking the
//! architecture up, the function service by computing a test function.

pub mod function;
pub mod local;
pub mod slurm;
pub mod table;

use archon_store::protocol::MetricLine;
use std::{path::PathBuf, time::Duration};
use tokio::sync::{mpsc, watch};

/// How to run one attempt of a trial.
#[derive(Debug, Clone)]
pub struct TrialSpec {
    /// The trial id.
    pub id: u64,
    /// Which attempt this is (from 1).
    pub attempt: u32,
    /// Program and arguments.
    pub command: Vec<String>,
    /// The trial's parameters (NNI-format JSON text); a process trial reads them from
    /// `ARCHON_PARAMETERS_FILE` (and `ARCHON_PARAMETERS` when they are small).
    pub parameters: String,
    /// Extra environment (parameters, ids, CUDA_VISIBLE_DEVICES).
    pub env: Vec<(String, String)>,
    /// Working folder.
    pub cwd: PathBuf,
    /// Folder for `stdout.log` and `stderr.log`.
    pub log_dir: PathBuf,
    /// Time limit.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The process exited (code `None`: killed by a signal); `bad_metric` is the first
    /// malformed metric line, if any.
    Exited {
        /// Exit code.
        code: Option<i32>,
        /// The first malformed metric line.
        bad_metric: Option<String>,
    },
    /// It ran past its time limit and was killed.
    TimedOut,
    /// It was stopped on request.
    Stopped,
    /// It could not be started, or the cluster lost or failed it (the reason).
    SpawnFailed(String),
}

/// What a running trial tells the manager.
#[derive(Debug)]
pub enum Event {
    /// A metric line.
    Metric {
        /// Trial id.
        id: u64,
        /// Attempt.
        attempt: u32,
        /// The metric.
        metric: MetricLine,
    },
    /// The attempt has a handle by which a later manager can follow it (a Slurm job
    /// id and its output file); the manager records it.
    Handle {
        /// Trial id.
        id: u64,
        /// Attempt.
        attempt: u32,
        /// The handle.
        handle: String,
    },
    /// The attempt ended.
    Ended {
        /// Trial id.
        id: u64,
        /// Attempt.
        attempt: u32,
        /// How.
        outcome: Outcome,
    },
}

/// Where trials run. Implementations spawn their own tasks and report through
/// `events`; `stop` turning true asks for the attempt to be cancelled.
pub trait TrainingService: Send + Sync {
    /// Starts one attempt.
    fn launch(
        &self,
        spec: TrialSpec,
        events: mpsc::UnboundedSender<Event>,
        stop: watch::Receiver<bool>,
    );

    /// Follows an attempt that a previous manager started (`handle`, as that manager
    /// recorded it from [`Event::Handle`]) instead of starting it again; `seen` metric
    /// lines of it are already stored. False when it cannot be followed (the attempt
    /// is then run again).
    fn reattach(
        &self,
        _spec: TrialSpec,
        _handle: &str,
        _seen: usize,
        _events: mpsc::UnboundedSender<Event>,
        _stop: watch::Receiver<bool>,
    ) -> bool {
        false
    }

    /// Cancels attempts by their handles, without a manager (`experiment stop` after
    /// the manager died).
    fn cancel(&self, _handles: &[String]) {}
}

/// Reports an attempt answered in-process (the table and function services): its metric
/// and a clean exit, or a failure saying why.
pub fn answer_in_process(
    spec: &TrialSpec,
    answer: Result<MetricLine, String>,
    events: &mpsc::UnboundedSender<Event>,
) {
    let (id, attempt) = (spec.id, spec.attempt);
    let outcome = match answer {
        Ok(metric) => {
            let _ = events.send(Event::Metric {
                id,
                attempt,
                metric,
            });
            Outcome::Exited {
                code: Some(0),
                bad_metric: None,
            }
        }
        Err(why) => Outcome::SpawnFailed(why),
    };
    let _ = events.send(Event::Ended {
        id,
        attempt,
        outcome,
    });
}
