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
    assessor::{Assessor, AssessorDirs},
    config::{AssessorSection, ExperimentConfig},
    limits::Pricer,
    nni_trial::NniTrial,
    prefilter::{self, Pick},
    service::{
        function::{Function, FunctionService},
        local::LocalService,
        slurm::SlurmService,
        table::{Lookup, TableService},
        Event, TrainingService,
    },
    space::search_space_json,
};
use anyhow::{bail, Context, Result};
use archon_core::plugins::{resolve, SearchPath};
use archon_plugin_api::{PluginKind, TunerClient};
use archon_store::{lock::ManagerLock, now, protocol::MetricLine, status::ExperimentStatus, Store};
use std::{
    collections::{HashMap, VecDeque},
    path::{Path, PathBuf},
    time::Instant,
};
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

mod catch_up;
mod events;
mod launch;

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
    /// Proposals over `[limits]` that never ran.
    pub over_limits: usize,
}

/// Runs (or resumes) the experiment stored in `dir`; refused while another manager
/// runs it.
pub fn run(dir: &Path, search_path: &SearchPath) -> Result<Summary> {
    run_with(dir, search_path, false)
}

/// [`run`], with `quiet`: no progress line per trial (benchmarks run many).
pub fn run_with(dir: &Path, search_path: &SearchPath, quiet: bool) -> Result<Summary> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (mut manager, mut events) = Manager::open(dir, search_path)?;
        manager.quiet = quiet;
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
    /// NNI's trial environment, for a trial command (`None`: the built-in trial).
    nni: Option<NniTrial>,
    events_tx: mpsc::UnboundedSender<Event>,
    /// Trials to (re)start before asking the tuner for more.
    queue: VecDeque<(u64, String)>,
    /// The pre-filter's picks not yet run, best first, with their rank.
    prefilter: VecDeque<(usize, Pick)>,
    /// Prices proposals under `[limits]` (none without limits).
    pricer: Option<Pricer>,
    running: HashMap<u64, Running>,
    assessor: Option<Assessor>,
    generated: u64,
    next_id: u64,
    exhausted: bool,
    stopping: bool,
    gpu_turn: usize,
    started: Instant,
    cpu_at_start: f64,
    summary: Summary,
    /// No progress line per trial.
    quiet: bool,
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
        let (cfg, config_dir) = ExperimentConfig::of_store(&store)?;
        let experiment_id = store.meta("id")?.unwrap_or_default();
        // archon's `nni` package, written once for whoever needs it: a Python tuner or
        // assessor class, and trial commands.
        let mut package = NniPackage::new(&dir, search_space_json(&cfg, &config_dir)?);
        let tuner = load_tuner(&cfg, &config_dir, &store, search_path, &mut package)?;
        let prefilter = prefilter_picks(&cfg, &config_dir, &store, search_path)?;
        let pricer = Pricer::new(&cfg, &config_dir, search_path)?;
        let nni = match (&cfg.trial.command, &cfg.trial.table) {
            (Some(_), None) if cfg.trial.function.is_none() => Some(package.get()?.clone()),
            _ => None,
        };
        store.set_status(ExperimentStatus::Running)?;
        store.set_manager_pid()?;
        let service: Box<dyn TrainingService> =
            match (&cfg.trial.table, cfg.training_service.kind.as_str()) {
                (Some(_), _) => Box::new(TableService::new(trial_table(&cfg, &config_dir)?)),
                (None, _) if cfg.trial.function.is_some() => {
                    Box::new(FunctionService::new(trial_function(&cfg, &config_dir)?))
                }
                (None, "slurm") => {
                    Box::new(SlurmService::new(&cfg.training_service, &experiment_id))
                }
                (None, _) => Box::new(LocalService),
            };
        let (events_tx, events) = mpsc::unbounded_channel::<Event>();
        let assessor = match &cfg.assessor {
            Some(section) => Some(Assessor::new(
                cfg.direction,
                section,
                AssessorDirs {
                    config_dir: &config_dir,
                    python_dir: package.for_assessor(section)?.as_deref(),
                    experiment_dir: &dir,
                },
            )?),
            None => None,
        };
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
            nni,
            events_tx,
            queue: VecDeque::new(),
            prefilter: prefilter.into_iter().enumerate().collect(),
            pricer,
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
            quiet: false,
        };
        Ok((manager, events))
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

    /// SIGTERM: stop every running trial and start no more.
    fn stop_all(&mut self) {
        self.stopping = true;
        for r in self.running.values() {
            let _ = r.stop.send(true);
        }
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

/// The pre-filter's picks (none without `[tuner.prefilter]`): ranked once, on the
/// first run, and kept in the store for every later one.
fn prefilter_picks(
    cfg: &ExperimentConfig,
    config_dir: &Path,
    store: &Store,
    search_path: &SearchPath,
) -> Result<Vec<Pick>> {
    let Some(pre) = &cfg.tuner.prefilter else {
        return Ok(Vec::new());
    };
    if let Some(saved) = store.meta("prefilter")? {
        return serde_json::from_str(&saved).context("the stored pre-filter ranking");
    }
    let start = Instant::now();
    let picks = prefilter::rank(
        cfg,
        config_dir,
        &search_space_json(cfg, config_dir)?,
        search_path,
    )
    .context("the proxy pre-filter")?;
    tracing::info!(
        proxy = %pre.proxy,
        sample = pre.sample,
        keep = picks.len(),
        seconds = start.elapsed().as_secs_f64(),
        "pre-filter ranked"
    );
    store.set_meta("prefilter", &serde_json::to_string(&picks)?)?;
    Ok(picks)
}

/// Loads the experiment's tuner, gives it the search space and restores its last
/// checkpoint.
/// The experiment's test function (`trial.function`), checked against its space.
pub fn trial_function(cfg: &ExperimentConfig, config_dir: &Path) -> Result<&'static Function> {
    let name = cfg.trial.function.as_deref().context("no trial.function")?;
    let function = Function::named(name).context("trial.function")?;
    let space =
        archon_plugin_api::SearchSpace::from_json_str(&search_space_json(cfg, config_dir)?)?;
    function.check_space(&space)?;
    Ok(function)
}

/// The experiment's trial table (`trial.table`, relative to the config's folder),
/// checked against the space's labels.
pub fn trial_table(cfg: &ExperimentConfig, config_dir: &Path) -> Result<Lookup> {
    let table = cfg.trial.table.as_ref().context("no trial.table")?;
    let space =
        archon_plugin_api::SearchSpace::from_json_str(&search_space_json(cfg, config_dir)?)?;
    let labels: Vec<String> = space
        .choices()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let lookup = Lookup::load(
        &config_dir.join(table),
        &labels,
        cfg.trial.metric.as_deref().unwrap_or_default(),
    )
    .context("trial.table")?;
    // Every objective (but `default`, the metric column) must be a column.
    for o in cfg.objectives.iter().filter(|o| o.metric != "default") {
        if !lookup.has_column(&o.metric) {
            bail!(
                "objectives: {:?} is not a column of the trial table {} (its columns: {})",
                o.metric,
                table.display(),
                lookup.columns().join(", ")
            );
        }
    }
    Ok(lookup)
}

fn load_tuner(
    cfg: &ExperimentConfig,
    config_dir: &Path,
    store: &Store,
    search_path: &SearchPath,
    package: &mut NniPackage,
) -> Result<TunerClient> {
    let mut tuner = new_tuner_in(cfg, config_dir, search_path, package)?;
    if let Some(state) = store.tuner_state()? {
        tuner
            .load_state(&state)
            .context("restoring the tuner state")?;
    }
    Ok(tuner)
}

/// What `experiment create` checks: the config's tuner created with its options and
/// given the search space, and a Python assessor class started as the manager would
/// (Medianstop and Curvefitting are whole once their section is read) — in one scratch
/// folder, removed afterwards. Errors say which: `[tuner]` or `[assessor]`.
pub fn check_algorithms(
    cfg: &ExperimentConfig,
    config_dir: &Path,
    search_path: &SearchPath,
) -> Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("archon-check-")
        .tempdir()
        .context("creating a scratch folder to check the tuner and assessor in")?;
    let mut package = NniPackage::new(scratch.path(), search_space_json(cfg, config_dir)?);
    let tuner = new_tuner_in(cfg, config_dir, search_path, &mut package).context("[tuner]")?;
    // Each class's process ends before the folder goes.
    drop(tuner);
    if let Some(section) = cfg.assessor.as_ref().filter(|a| a.name == "python") {
        let assessor = Assessor::new(
            cfg.direction,
            section,
            AssessorDirs {
                config_dir,
                python_dir: package.for_assessor(section)?.as_deref(),
                experiment_dir: scratch.path(),
            },
        )
        .context("[assessor]")?;
        drop(assessor);
    }
    Ok(())
}

/// archon's `nni` package for one experiment folder, written when first asked for.
struct NniPackage<'a> {
    experiment_dir: &'a Path,
    space_json: String,
    installed: Option<NniTrial>,
}

impl<'a> NniPackage<'a> {
    fn new(experiment_dir: &'a Path, space_json: String) -> Self {
        NniPackage {
            experiment_dir,
            space_json,
            installed: None,
        }
    }

    /// The package's folder for `section`'s assessor: written for a Python class only.
    fn for_assessor(&mut self, section: &AssessorSection) -> Result<Option<PathBuf>> {
        Ok(match section.name.as_str() {
            "python" => Some(self.get()?.python_dir().to_path_buf()),
            _ => None,
        })
    }

    /// The package, written into the experiment's folder the first time.
    fn get(&mut self) -> Result<&NniTrial> {
        if self.installed.is_none() {
            self.installed = Some(NniTrial::install(self.experiment_dir, &self.space_json)?);
        }
        Ok(self.installed.as_ref().expect("installed above"))
    }
}

/// The config's tuner, created with its options and given the search space. A tuner
/// that declares `python_path` (the `python` tuner, hosting an NNI tuner class) gets
/// the folder of archon's `nni` package (`package`).
fn new_tuner_in(
    cfg: &ExperimentConfig,
    config_dir: &Path,
    search_path: &SearchPath,
    package: &mut NniPackage,
) -> Result<TunerClient> {
    let space_json = package.space_json.clone();
    let plugin = resolve(&cfg.tuner.name, search_path)
        .with_context(|| format!("loading the tuner {:?}", cfg.tuner.name))?;
    if !plugin.kinds.contains(&PluginKind::Tuner) {
        bail!(
            "plugin {:?} is not a tuner (it provides: {})",
            plugin.name,
            plugin.kinds_text()
        );
    }
    let declares = |key: &str| {
        plugin
            .options
            .as_ref()
            .is_some_and(|o| o.iter().any(|d| d.key == key))
    };
    let mut provided = vec![
        (
            "config_dir",
            serde_json::Value::from(config_dir.display().to_string()),
        ),
        (
            "experiment_dir",
            serde_json::Value::from(package.experiment_dir.display().to_string()),
        ),
    ];
    if declares("python_path") {
        let python_dir = package.get()?.python_dir().display().to_string();
        provided.push(("python_path", python_dir.into()));
    }
    let new_tuner = plugin.module().new_tuner();
    let mut tuner = TunerClient::from_box(
        new_tuner(cfg.tuner_options_for(declares, &provided)?.as_str().into())
            .into_result()
            .context("creating the tuner")?,
    );
    tuner
        .update_search_space(&space_json)
        .with_context(|| format!("giving the tuner {:?} the search space", cfg.tuner.name))?;
    Ok(tuner)
}
