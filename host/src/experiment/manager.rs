//! The experiment manager: asks the tuner for parameters, runs trials through a
//! training service (local processes or Slurm jobs, one state machine for both),
//! records everything in the store as it happens, tells the tuner how each trial ended,
//! and checkpoints the tuner after every exchange. A killed manager resumes from the
//! store: finished trials are not run again, trials that were running are followed
//! again where the service can (a Slurm job still queued or running) or run again with
//! the same parameters, and results the tuner had not yet heard of are given to it
//! first. One manager per experiment: it holds the experiment's [`ManagerLock`] for
//! its whole life.

use super::{
    assessor::MedianStop,
    config::ExperimentConfig,
    lock::ManagerLock,
    protocol::MetricLine,
    service::{
        local::LocalService, slurm::SlurmService, Event, Outcome, TrainingService, TrialSpec,
    },
    space::search_space_json,
    status::{ExperimentStatus, TrialStatus},
    store::{now, Store},
    verdict::judge,
};
use crate::plugins::{resolve, SearchPath};
use anyhow::{bail, Context, Result};
use archon_plugin_api::{PluginKind, TunerClient};
use std::{
    collections::{HashMap, VecDeque},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

/// CPU seconds (user + system) this process has used, children excluded.
pub fn own_cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we own; RUSAGE_SELF excludes children.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// A summary of a finished run.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Trials started by this run (attempts included).
    pub started: usize,
    /// Wall-clock seconds of this run.
    pub seconds: f64,
    /// CPU seconds the manager itself used in this run.
    pub manager_cpu: f64,
    /// Trials that succeeded.
    pub succeeded: usize,
    /// Trials that failed.
    pub failed: usize,
    /// The best trial and its metric.
    pub best: Option<(u64, f64)>,
}

/// Runs (or resumes) the experiment stored in `dir`; refused while another manager
/// runs it.
pub fn run(dir: &Path, search_path: &SearchPath) -> Result<Summary> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (mut manager, mut events) = Manager::open(dir, search_path)?;
        let span = tracing::info_span!("experiment", id = %manager.experiment_id);
        async move {
            manager.catch_up()?;
            manager.drive(&mut events).await?;
            manager.finish()
        }
        .instrument(span)
        .await
    })
}

/// A trial whose attempt is under way.
struct Running {
    parameters: String,
    attempt: u32,
    final_metric: Option<MetricLine>,
    /// Stops this trial.
    stop: watch::Sender<bool>,
    /// Why the assessor stopped it.
    early_stop: Option<String>,
}

/// An attempt a previous manager left running: (id, attempt, parameters, handle).
type Orphan = (u64, u32, String, String);

/// One run of the manager over one experiment.
struct Manager {
    _lock: ManagerLock,
    dir: PathBuf,
    store: Store,
    cfg: ExperimentConfig,
    config_dir: PathBuf,
    experiment_id: String,
    tuner: TunerClient,
    service: Box<dyn TrainingService>,
    trial_exe: PathBuf,
    events_tx: mpsc::UnboundedSender<Event>,
    /// Trials to (re)start before asking the tuner for more.
    queue: VecDeque<(u64, String)>,
    running: HashMap<u64, Running>,
    assessor: Option<MedianStop>,
    generated: u64,
    next_id: u64,
    exhausted: bool,
    stopping: bool,
    gpu_turn: usize,
    started: Instant,
    cpu_at_start: f64,
    summary: Summary,
}

impl Manager {
    /// Takes the experiment's lock, reads its config and readies the tuner and the
    /// training service.
    fn open(
        dir: &Path,
        search_path: &SearchPath,
    ) -> Result<(Manager, mpsc::UnboundedReceiver<Event>)> {
        // Trials run elsewhere (in the config's folder): they need the absolute path.
        let dir = dir
            .canonicalize()
            .with_context(|| format!("opening the experiment {}", dir.display()))?;
        if !dir.join("experiment.db").is_file() {
            bail!(
                "{} is not an experiment folder (no experiment.db)",
                dir.display()
            );
        }
        let lock = ManagerLock::acquire(&dir)?;
        let store = Store::open_existing(&dir)?;
        let (cfg, config_dir) = store.experiment_config()?;
        let experiment_id = store.meta("id")?.unwrap_or_default();
        let tuner = load_tuner(&cfg, &config_dir, &store, search_path)?;
        store.set_status(ExperimentStatus::Running)?;
        store.set_manager_pid()?;
        let service: Box<dyn TrainingService> = match cfg.training_service.kind.as_str() {
            "slurm" => Box::new(SlurmService::new(&cfg.training_service, &experiment_id)),
            _ => Box::new(LocalService),
        };
        let (events_tx, events) = mpsc::unbounded_channel::<Event>();
        let assessor = cfg
            .assessor
            .as_ref()
            .map(|a| MedianStop::new(cfg.direction, a.start_step));
        let manager = Manager {
            _lock: lock,
            dir,
            store,
            cfg,
            config_dir,
            experiment_id,
            tuner,
            service,
            trial_exe: std::env::current_exe()?,
            events_tx,
            queue: VecDeque::new(),
            running: HashMap::new(),
            assessor,
            generated: 0,
            next_id: 0,
            exhausted: false,
            stopping: false,
            gpu_turn: 0,
            started: Instant::now(),
            cpu_at_start: own_cpu_seconds(),
            summary: Summary::default(),
        };
        Ok((manager, events))
    }

    /// Reconciles with what a previous (killed) manager left: results the tuner has
    /// not heard of, trials to run again, attempts to follow again.
    fn catch_up(&mut self) -> Result<()> {
        let orphans = self.reconcile()?;
        let trials = self.store.trials()?;
        self.generated = trials.len() as u64;
        self.next_id = trials.iter().map(|t| t.id + 1).max().unwrap_or(0);
        self.seed_assessor()?;
        for orphan in orphans {
            self.reattach(orphan)?;
        }
        self.cpu_at_start = own_cpu_seconds();
        Ok(())
    }

    /// Queues interrupted trials and reports unreported ends; returns the attempts a
    /// service may be able to follow again.
    fn reconcile(&mut self) -> Result<Vec<Orphan>> {
        let mut orphans = Vec::new();
        for t in self.store.trials()? {
            match t.status {
                TrialStatus::Running => {
                    match self
                        .store
                        .meta(&format!("handle:{}:{}", t.id, t.attempts))?
                    {
                        Some(handle) => orphans.push((t.id, t.attempts, t.parameters, handle)),
                        None => self.queue.push_back((t.id, t.parameters)),
                    }
                }
                _ if !t.reported => {
                    let success = t.status == TrialStatus::Succeeded;
                    self.report_end(t.id, &t.parameters, success, t.final_metric)?;
                }
                _ => {}
            }
        }
        Ok(orphans)
    }

    /// Gives the assessor the curves of the trials that already succeeded.
    fn seed_assessor(&mut self) -> Result<()> {
        let Some(rule) = self.assessor.as_mut() else {
            return Ok(());
        };
        for t in self.store.trials()? {
            if t.status != TrialStatus::Succeeded {
                continue;
            }
            let curve = self.store.metrics(t.id)?;
            rule.completed(curve.into_iter().filter(|m| !m.2).map(|m| m.0).collect());
        }
        Ok(())
    }

    /// Follows an attempt a previous manager started, or queues it to run again.
    fn reattach(&mut self, (id, attempt, parameters, handle): Orphan) -> Result<()> {
        let seen = self.store.metrics_of_attempt(id, attempt)?;
        let (stop, stop_rx) = watch::channel(false);
        let spec = self.trial_spec(id, attempt, &parameters, None);
        if !self
            .service
            .reattach(spec, &handle, seen.len(), self.events_tx.clone(), stop_rx)
        {
            self.queue.push_back((id, parameters));
            return Ok(());
        }
        eprintln!("trial {id}: following attempt {attempt} again ({handle})");
        self.running.insert(
            id,
            Running {
                parameters,
                attempt,
                final_metric: seen.into_iter().last(),
                stop,
                early_stop: None,
            },
        );
        Ok(())
    }

    /// Launches trials and handles their events until none is running and none is
    /// left to start (or SIGTERM stopped the experiment).
    async fn drive(&mut self, events: &mut mpsc::UnboundedReceiver<Event>) -> Result<()> {
        let mut sigterm =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            self.launch_ready()?;
            if self.running.is_empty() {
                return Ok(());
            }
            tokio::select! {
                e = events.recv() => self.handle(e.context("trial events ended unexpectedly")?)?,
                _ = sigterm.recv() => self.stop_all(),
            }
        }
    }

    /// Starts trials while there is room and work.
    fn launch_ready(&mut self) -> Result<()> {
        while !self.stopping && self.running.len() < self.cfg.concurrency_limit() {
            let Some((id, parameters)) = self.next_work()? else {
                break;
            };
            self.launch(id, parameters)?;
        }
        Ok(())
    }

    /// The next trial to start: a queued one, else a new one from the tuner (none when
    /// the budget is spent or the tuner has nothing more).
    fn next_work(&mut self) -> Result<Option<(u64, String)>> {
        if let Some(item) = self.queue.pop_front() {
            return Ok(Some(item));
        }
        let time_up = self
            .cfg
            .max_duration()
            .is_some_and(|d| self.started.elapsed() >= d);
        if self.exhausted || time_up || self.generated >= self.cfg.max_trials {
            return Ok(None);
        }
        let Some(p) = self.tuner.generate_parameters(self.next_id)? else {
            self.exhausted = true;
            return Ok(None);
        };
        let (id, p) = (self.next_id, p.to_string());
        self.store.add_trial(id, &p, &self.tuner.save_state()?)?;
        self.generated += 1;
        self.next_id += 1;
        Ok(Some((id, p)))
    }

    /// Starts one attempt of trial `id`.
    fn launch(&mut self, id: u64, parameters: String) -> Result<()> {
        let _span = tracing::info_span!("trial", id).entered();
        let attempt = self.store.start_attempt(id)?;
        tracing::debug!(attempt, "launching");
        let gpus = &self.cfg.training_service.gpus;
        let gpu = (!gpus.is_empty()).then(|| {
            self.gpu_turn += 1;
            gpus[(self.gpu_turn - 1) % gpus.len()]
        });
        let trial_dir = self.store.trial_dir(id);
        std::fs::create_dir_all(&trial_dir)?;
        std::fs::write(trial_dir.join("parameters.json"), &parameters)?;
        let spec = self.trial_spec(id, attempt, &parameters, gpu);
        let (stop, stop_rx) = watch::channel(false);
        self.running.insert(
            id,
            Running {
                parameters,
                attempt,
                final_metric: None,
                stop,
                early_stop: None,
            },
        );
        self.summary.started += 1;
        self.service.launch(spec, self.events_tx.clone(), stop_rx);
        Ok(())
    }

    /// How to run attempt `attempt` of trial `id`.
    fn trial_spec(&self, id: u64, attempt: u32, parameters: &str, gpu: Option<u32>) -> TrialSpec {
        let trial_dir = self.store.trial_dir(id);
        let mut env = vec![
            ("ARCHON_PARAMETERS".to_string(), parameters.to_string()),
            (
                "ARCHON_PARAMETERS_FILE".to_string(),
                trial_dir.join("parameters.json").display().to_string(),
            ),
            (
                "ARCHON_EXPERIMENT_ID".to_string(),
                self.experiment_id.clone(),
            ),
            ("ARCHON_TRIAL_ID".to_string(), id.to_string()),
            (
                "ARCHON_EXPERIMENT_DIR".to_string(),
                self.dir.display().to_string(),
            ),
        ];
        if let Some(gpu) = gpu {
            env.push(("CUDA_VISIBLE_DEVICES".into(), gpu.to_string()));
        }
        TrialSpec {
            id,
            attempt,
            command: match &self.cfg.trial.command {
                Some(c) => c.clone(),
                None => vec![self.trial_exe.display().to_string(), "trial".into()],
            },
            env,
            cwd: self.config_dir.clone(),
            log_dir: trial_dir,
            timeout: self.cfg.trial_timeout(),
            grace: Duration::from_secs(self.cfg.training_service.grace_seconds),
        }
    }

    /// SIGTERM: stop every running trial and start no more.
    fn stop_all(&mut self) {
        self.stopping = true;
        for r in self.running.values() {
            let _ = r.stop.send(true);
        }
    }

    /// Records one event of a running trial.
    fn handle(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Metric {
                id,
                attempt,
                metric,
            } => self.on_metric(id, attempt, metric),
            Event::Handle {
                id,
                attempt,
                handle,
            } => self
                .store
                .set_meta(&format!("handle:{id}:{attempt}"), &handle),
            Event::Ended {
                id,
                attempt,
                outcome,
            } => self.on_ended(id, attempt, &outcome),
        }
    }

    /// Stores a metric and lets the assessor judge the trial's curve.
    fn on_metric(&mut self, id: u64, attempt: u32, metric: MetricLine) -> Result<()> {
        let _span = tracing::info_span!("trial", id).entered();
        tracing::debug!(attempt, value = metric.value, "metric");
        self.store
            .add_metric(id, attempt, metric.value, &metric.raw, metric.is_final)?;
        let Some(r) = self.running.get_mut(&id) else {
            return Ok(());
        };
        if let (Some(rule), false) = (self.assessor.as_mut(), metric.is_final) {
            if r.early_stop.is_none() && rule.report(id, metric.value) {
                r.early_stop =
                    Some("median stop: worse than the median of completed trials".into());
                let _ = r.stop.send(true);
            }
        }
        if r.final_metric.as_ref().is_none_or(|m| !m.is_final) {
            r.final_metric = Some(metric);
        }
        Ok(())
    }

    /// Judges an ended attempt: retries it, or records the trial's end and tells the
    /// tuner.
    fn on_ended(&mut self, id: u64, attempt: u32, outcome: &Outcome) -> Result<()> {
        let _span = tracing::info_span!("trial", id).entered();
        let Some(r) = self.running.remove(&id) else {
            return Ok(());
        };
        debug_assert_eq!(r.attempt, attempt);
        let (status, reason, code) = match (outcome, &r.early_stop) {
            (Outcome::Stopped, Some(why)) => (TrialStatus::EarlyStopped, Some(why.clone()), None),
            _ => judge(outcome, r.final_metric.is_some(), &self.cfg),
        };
        if let Some(rule) = self.assessor.as_mut() {
            rule.ended(id, status == TrialStatus::Succeeded);
        }
        if status == TrialStatus::Failed && attempt <= self.cfg.trial.retries && !self.stopping {
            eprintln!(
                "trial {id} attempt {attempt} failed ({}); retrying",
                reason.as_deref().unwrap_or("?")
            );
            self.queue.push_back((id, r.parameters));
            return Ok(());
        }
        let value = r
            .final_metric
            .as_ref()
            .map(|m| m.value)
            .filter(|_| status == TrialStatus::Succeeded);
        self.store
            .finish_trial(id, status, value, code, reason.as_deref())?;
        if status != TrialStatus::Canceled {
            self.report_end(id, &r.parameters, status == TrialStatus::Succeeded, value)?;
        }
        self.count(id, status, value);
        eprintln!("{}", self.progress_line(id, status, reason));
        Ok(())
    }

    /// Adds a finished trial to the run's summary.
    fn count(&mut self, id: u64, status: TrialStatus, value: Option<f64>) {
        let summary = &mut self.summary;
        match (status, value) {
            (TrialStatus::Succeeded, Some(v)) => {
                summary.succeeded += 1;
                if summary
                    .best
                    .is_none_or(|(_, b)| self.cfg.direction.better(v, b))
                {
                    summary.best = Some((id, v));
                }
            }
            (TrialStatus::Failed, _) => summary.failed += 1,
            _ => {}
        }
    }

    /// "trial 3: SUCCEEDED | done 3 failed 0 running 1 | best … | elapsed …".
    fn progress_line(&self, id: u64, status: TrialStatus, reason: Option<String>) -> String {
        let s = &self.summary;
        format!(
            "trial {id}: {}{} | done {} failed {} running {} | best {} | {}",
            status.as_str(),
            reason.map(|r| format!(" ({r})")).unwrap_or_default(),
            s.succeeded,
            s.failed,
            self.running.len(),
            s.best
                .map(|(i, v)| format!("{v:.4} (trial {i})"))
                .unwrap_or_else(|| "-".into()),
            eta(
                self.started.elapsed(),
                s.succeeded + s.failed,
                self.cfg.max_trials,
                self.exhausted
            )
        )
    }

    /// Tells the tuner how a trial ended and checkpoints it, atomically with the record.
    fn report_end(
        &mut self,
        id: u64,
        parameters: &str,
        success: bool,
        value: Option<f64>,
    ) -> Result<()> {
        if let (true, Some(v)) = (success, value) {
            self.tuner.receive_trial_result(
                id,
                parameters,
                &serde_json::json!({"default": v}).to_string(),
            )?;
        }
        self.tuner.trial_end(id, success)?;
        let state = self.tuner.save_state()?;
        self.store.mark_reported(id, &state)
    }

    /// Records how the run ended; the lock is released when the manager drops.
    fn finish(self) -> Result<Summary> {
        let status = if self.stopping {
            ExperimentStatus::Stopped
        } else {
            ExperimentStatus::Done
        };
        self.store.set_status(status)?;
        self.store.set_meta("ended", &now().to_string())?;
        let mut summary = self.summary;
        summary.seconds = self.started.elapsed().as_secs_f64();
        summary.manager_cpu = own_cpu_seconds() - self.cpu_at_start;
        Ok(summary)
    }
}

/// Loads the experiment's tuner, gives it the search space and restores its last
/// checkpoint.
fn load_tuner(
    cfg: &ExperimentConfig,
    config_dir: &Path,
    store: &Store,
    search_path: &SearchPath,
) -> Result<TunerClient> {
    let space_json = search_space_json(cfg, config_dir)?;
    let plugin = resolve(&cfg.tuner.name, search_path)
        .with_context(|| format!("loading the tuner {:?}", cfg.tuner.name))?;
    if !plugin.kinds.contains(&PluginKind::Tuner) {
        bail!(
            "plugin {:?} is not a tuner (it provides: {})",
            plugin.name,
            plugin.kinds_text()
        );
    }
    let new_tuner = plugin.module().new_tuner();
    let mut tuner = TunerClient::from_box(
        new_tuner(cfg.tuner_options()?.as_str().into())
            .into_result()
            .context("creating the tuner")?,
    );
    tuner
        .update_search_space(&space_json)
        .context("giving the tuner the search space")?;
    if let Some(state) = store.tuner_state()? {
        tuner
            .load_state(&state)
            .context("restoring the tuner state")?;
    }
    Ok(tuner)
}

/// "elapsed 1m05s, ETA 2m10s" from the pace so far.
fn eta(elapsed: Duration, finished: usize, max_trials: u64, exhausted: bool) -> String {
    let fmt = |d: Duration| {
        let s = d.as_secs();
        if s >= 60 {
            format!("{}m{:02}s", s / 60, s % 60)
        } else {
            format!("{s}s")
        }
    };
    let left = max_trials.saturating_sub(finished as u64);
    if finished == 0 || exhausted || left == 0 {
        return format!("elapsed {}", fmt(elapsed));
    }
    format!(
        "elapsed {}, ETA {}",
        fmt(elapsed),
        fmt(elapsed.mul_f64(left as f64 / finished as f64))
    )
}
