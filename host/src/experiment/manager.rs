//! The experiment manager: asks the tuner for parameters, runs trials through a
//! training service (local processes or Slurm jobs, one state machine for both), records everything in the store as it happens, tells the
//! tuner how each trial ended, and checkpoints the tuner after every exchange. A
//! killed manager resumes from the store: finished trials are not run again, trials
//! that were running are followed again where the service can (a Slurm job still
//! queued or running) or run again with the same parameters, and results the tuner had
//! not yet heard of are given to it first.

use super::{
    assessor::MedianStop,
    config::{resolve_relative, ExperimentConfig},
    protocol::MetricLine,
    service::{
        local::LocalService, slurm::SlurmService, Event, Outcome, TrainingService, TrialSpec,
    },
    store::{Store, TrialStatus},
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

/// The search space of an experiment as NNI JSON text.
pub fn search_space_json(cfg: &ExperimentConfig, config_dir: &Path) -> Result<String> {
    if let Some(file) = &cfg.space.file {
        let path = resolve_relative(config_dir, file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the search space {}", path.display()))?;
        archon_plugin_api::SearchSpace::from_json_str(&text)
            .with_context(|| format!("in {}", path.display()))?;
        return Ok(text);
    }
    let name = cfg.space.builtin.as_deref().context("no space")?;
    let family = archon_spaces::hub::space(name)?;
    let space_cfg = archon_spaces::hub::SpaceConfig {
        options: archon_plugin_api::Options::from_json_str(&serde_json::to_string(
            &cfg.space.options,
        )?)?,
        vocab_size: 10_000,
        ..Default::default()
    };
    Ok(archon_spaces::Child::space_of(family, &space_cfg)?
        .to_json()
        .to_string())
}

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

/// Runs (or resumes) the experiment stored in `dir`.
pub fn run(dir: &Path, search_path: &SearchPath) -> Result<Summary> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(dir, search_path))
}

struct Running {
    parameters: String,
    attempt: u32,
    final_metric: Option<MetricLine>,
    /// Stops this trial.
    stop: watch::Sender<bool>,
    /// Why the assessor stopped it.
    early_stop: Option<String>,
}

async fn run_async(dir: &Path, search_path: &SearchPath) -> Result<Summary> {
    // Trials run elsewhere (in the config's folder): they need the absolute path.
    let dir = &dir
        .canonicalize()
        .with_context(|| format!("opening the experiment {}", dir.display()))?;
    let mut store = Store::open_existing(dir)?;
    let config_text = store
        .meta("config")?
        .context("the store has no config: is this an experiment folder?")?;
    let config_dir = PathBuf::from(store.meta("config_dir")?.unwrap_or_else(|| ".".into()));
    let cfg = ExperimentConfig::parse(&config_text, &config_dir.join("experiment.toml"))?;
    let experiment_id = store.meta("id")?.unwrap_or_default();
    let space_json = search_space_json(&cfg, &config_dir)?;

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
    store.set_meta("status", "RUNNING")?;
    store.set_meta("manager_pid", &std::process::id().to_string())?;

    let service: Box<dyn TrainingService> = match cfg.training_service.kind.as_str() {
        "slurm" => Box::new(SlurmService::new(&cfg.training_service, &experiment_id)),
        _ => Box::new(LocalService),
    };
    let concurrency = cfg
        .concurrency
        .min(cfg.training_service.max_queued.unwrap_or(usize::MAX));
    let exe = std::env::current_exe()?;
    let spec_for = |store: &Store, id: u64, attempt: u32, parameters: &str, gpu: Option<u32>| {
        let mut env = vec![
            ("ARCHON_PARAMETERS".to_string(), parameters.to_string()),
            (
                "ARCHON_PARAMETERS_FILE".to_string(),
                store
                    .trial_dir(id)
                    .join("parameters.json")
                    .display()
                    .to_string(),
            ),
            ("ARCHON_EXPERIMENT_ID".to_string(), experiment_id.clone()),
            ("ARCHON_TRIAL_ID".to_string(), id.to_string()),
            (
                "ARCHON_EXPERIMENT_DIR".to_string(),
                dir.display().to_string(),
            ),
        ];
        if let Some(gpu) = gpu {
            env.push(("CUDA_VISIBLE_DEVICES".into(), gpu.to_string()));
        }
        TrialSpec {
            id,
            attempt,
            command: match &cfg.trial.command {
                Some(c) => c.clone(),
                None => vec![exe.display().to_string(), "trial".into()],
            },
            env,
            cwd: config_dir.clone(),
            log_dir: store.trial_dir(id),
            timeout: cfg.trial_timeout(),
            grace: Duration::from_secs(cfg.training_service.grace_seconds),
        }
    };

    // Reconcile with what a previous (killed) manager left.
    let mut queue: VecDeque<(u64, String)> = VecDeque::new();
    let mut reattach: Vec<(u64, u32, String, String)> = Vec::new();
    for t in store.trials()? {
        match t.status {
            TrialStatus::Running => match store.meta(&format!("handle:{}:{}", t.id, t.attempts))? {
                Some(handle) => reattach.push((t.id, t.attempts, t.parameters.clone(), handle)),
                None => queue.push_back((t.id, t.parameters.clone())),
            },
            _ if !t.reported => {
                report_end(
                    &mut tuner,
                    &mut store,
                    t.id,
                    &t.parameters,
                    t.status == TrialStatus::Succeeded,
                    t.final_metric,
                )?;
            }
            _ => {}
        }
    }
    let mut generated = store.trials()?.len() as u64;
    let mut next_id = store.trials()?.iter().map(|t| t.id + 1).max().unwrap_or(0);
    let mut exhausted = false;
    let started = Instant::now();
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let mut assessor = cfg
        .assessor
        .as_ref()
        .map(|a| MedianStop::new(cfg.direction, a.start_step));
    if let Some(rule) = assessor.as_mut() {
        for t in store
            .trials()?
            .iter()
            .filter(|t| t.status == TrialStatus::Succeeded)
        {
            rule.completed(
                store
                    .metrics(t.id)?
                    .into_iter()
                    .filter(|m| !m.2)
                    .map(|m| m.0)
                    .collect(),
            );
        }
    }
    let mut running: HashMap<u64, Running> = HashMap::new();
    let mut gpu_turn = 0usize;
    let mut summary = Summary::default();
    for (id, attempt, parameters, handle) in reattach {
        let seen = store.metrics_of_attempt(id, attempt)?;
        let (stop, stop_rx) = watch::channel(false);
        let spec = spec_for(&store, id, attempt, &parameters, None);
        if service.reattach(spec, &handle, seen.len(), events_tx.clone(), stop_rx) {
            eprintln!("trial {id}: following attempt {attempt} again ({handle})");
            running.insert(
                id,
                Running {
                    parameters,
                    attempt,
                    final_metric: seen.into_iter().last(),
                    stop,
                    early_stop: None,
                },
            );
        } else {
            queue.push_back((id, parameters));
        }
    }

    let cpu_at_start = own_cpu_seconds();
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut stopping = false;
    loop {
        // Launch while there is room and work.
        while !stopping && running.len() < concurrency {
            let time_up = cfg.max_duration().is_some_and(|d| started.elapsed() >= d);
            let (id, parameters) = if let Some(item) = queue.pop_front() {
                item
            } else if !exhausted && !time_up && generated < cfg.max_trials {
                match tuner.generate_parameters(next_id)? {
                    Some(p) => {
                        let p = p.to_string();
                        store.add_trial(next_id, &p, &tuner.save_state()?)?;
                        generated += 1;
                        next_id += 1;
                        (next_id - 1, p)
                    }
                    None => {
                        exhausted = true;
                        continue;
                    }
                }
            } else {
                break;
            };
            let attempt = store.start_attempt(id)?;
            let gpu = (!cfg.training_service.gpus.is_empty()).then(|| {
                gpu_turn += 1;
                cfg.training_service.gpus[(gpu_turn - 1) % cfg.training_service.gpus.len()]
            });
            std::fs::create_dir_all(store.trial_dir(id))?;
            std::fs::write(store.trial_dir(id).join("parameters.json"), &parameters)?;
            let spec = spec_for(&store, id, attempt, &parameters, gpu);
            let (stop, stop_rx) = watch::channel(false);
            running.insert(
                id,
                Running {
                    parameters,
                    attempt,
                    final_metric: None,
                    stop,
                    early_stop: None,
                },
            );
            summary.started += 1;
            service.launch(spec, events_tx.clone(), stop_rx);
        }
        if running.is_empty() {
            break;
        }
        let event = tokio::select! {
            e = events.recv() => e.context("trial events ended unexpectedly")?,
            _ = sigterm.recv() => {
                stopping = true;
                for r in running.values() {
                    let _ = r.stop.send(true);
                }
                continue;
            }
        };
        match event {
            Event::Metric {
                id,
                attempt,
                metric,
            } => {
                store.add_metric(id, attempt, metric.value, &metric.raw, metric.is_final)?;
                if let (Some(rule), Some(r), false) =
                    (assessor.as_mut(), running.get_mut(&id), metric.is_final)
                {
                    if r.early_stop.is_none() && rule.report(id, metric.value) {
                        r.early_stop =
                            Some("median stop: worse than the median of completed trials".into());
                        let _ = r.stop.send(true);
                    }
                }
                if let Some(r) = running.get_mut(&id) {
                    if r.final_metric.as_ref().is_none_or(|m| !m.is_final) {
                        r.final_metric = Some(metric);
                    }
                }
            }
            Event::Handle {
                id,
                attempt,
                handle,
            } => {
                store.set_meta(&format!("handle:{id}:{attempt}"), &handle)?;
            }
            Event::Ended {
                id,
                attempt,
                outcome,
            } => {
                let Some(r) = running.remove(&id) else {
                    continue;
                };
                debug_assert_eq!(r.attempt, attempt);
                let (status, reason, code) = match (&outcome, &r.early_stop) {
                    (Outcome::Stopped, Some(why)) => {
                        (TrialStatus::EarlyStopped, Some(why.clone()), None)
                    }
                    _ => judge(&outcome, r.final_metric.is_some(), &cfg),
                };
                if let Some(rule) = assessor.as_mut() {
                    rule.ended(id, status == TrialStatus::Succeeded);
                }
                if status == TrialStatus::Failed && attempt <= cfg.trial.retries && !stopping {
                    eprintln!(
                        "trial {id} attempt {attempt} failed ({}); retrying",
                        reason.as_deref().unwrap_or("?")
                    );
                    queue.push_back((id, r.parameters));
                    continue;
                }
                let value = r
                    .final_metric
                    .as_ref()
                    .map(|m| m.value)
                    .filter(|_| status == TrialStatus::Succeeded);
                store.finish_trial(id, status, value, code, reason.as_deref())?;
                if status != TrialStatus::Canceled {
                    report_end(
                        &mut tuner,
                        &mut store,
                        id,
                        &r.parameters,
                        status == TrialStatus::Succeeded,
                        value,
                    )?;
                }
                match (status, value) {
                    (TrialStatus::Succeeded, Some(v)) => {
                        summary.succeeded += 1;
                        if summary.best.is_none_or(|(_, b)| cfg.direction.better(v, b)) {
                            summary.best = Some((id, v));
                        }
                    }
                    (TrialStatus::Failed, _) => summary.failed += 1,
                    _ => {}
                }
                eprintln!(
                    "trial {id}: {}{} | done {} failed {} running {} | best {} | {}",
                    status.as_str(),
                    reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                    summary.succeeded,
                    summary.failed,
                    running.len(),
                    summary
                        .best
                        .map(|(i, v)| format!("{v:.4} (trial {i})"))
                        .unwrap_or_else(|| "-".into()),
                    eta(
                        started.elapsed(),
                        summary.succeeded + summary.failed,
                        cfg.max_trials,
                        exhausted
                    )
                );
            }
        }
    }
    store.set_meta("status", if stopping { "STOPPED" } else { "DONE" })?;
    store.set_meta("ended", &super::store::now().to_string())?;
    summary.seconds = started.elapsed().as_secs_f64();
    summary.manager_cpu = own_cpu_seconds() - cpu_at_start;
    Ok(summary)
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

/// Decides a finished attempt's status, reason and exit code.
fn judge(
    outcome: &Outcome,
    has_metric: bool,
    cfg: &ExperimentConfig,
) -> (TrialStatus, Option<String>, Option<i32>) {
    match outcome {
        Outcome::Exited {
            code: Some(0),
            bad_metric: None,
        } if has_metric => (TrialStatus::Succeeded, None, Some(0)),
        Outcome::Exited {
            code: Some(0),
            bad_metric: None,
        } => (
            TrialStatus::Failed,
            Some(
                "exited without reporting a metric (print `ARCHON_METRIC {\"default\": …}`)".into(),
            ),
            Some(0),
        ),
        Outcome::Exited {
            code,
            bad_metric: Some(why),
        } => (TrialStatus::Failed, Some(why.clone()), *code),
        Outcome::Exited { code: Some(c), .. } => (
            TrialStatus::Failed,
            Some(format!("exited with code {c}")),
            Some(*c),
        ),
        Outcome::Exited { code: None, .. } => {
            (TrialStatus::Failed, Some("killed by a signal".into()), None)
        }
        Outcome::TimedOut => (
            TrialStatus::Failed,
            Some(format!(
                "timed out after {}",
                cfg.trial.timeout.as_deref().unwrap_or("?")
            )),
            None,
        ),
        Outcome::Stopped => (TrialStatus::Canceled, Some("stopped".into()), None),
        Outcome::SpawnFailed(why) => (TrialStatus::Failed, Some(why.clone()), None),
    }
}

/// Tells the tuner how a trial ended and checkpoints it, atomically with the record.
fn report_end(
    tuner: &mut TunerClient,
    store: &mut Store,
    id: u64,
    parameters: &str,
    success: bool,
    value: Option<f64>,
) -> Result<()> {
    if let (true, Some(v)) = (success, value) {
        tuner.receive_trial_result(
            id,
            parameters,
            &serde_json::json!({"default": v}).to_string(),
        )?;
    }
    tuner.trial_end(id, success)?;
    store.mark_reported(id, &tuner.save_state()?)
}
