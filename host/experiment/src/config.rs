//! The experiment config (TOML). Every field is documented in docs/config-reference.md (`archon config reference`)
//! ("Experiment config"); unknown keys and bad values are errors naming the key and
//! its line.

use anyhow::{Context, Result};
use archon_core::spec::{DataSpec, SpaceSpec, TrainSpec};
use serde::{Deserialize, Serialize};
use std::{
    path::{Path, PathBuf},
    time::Duration,
};

pub use super::objective::{Direction, Objective};
pub use archon_core::spec::{resolve_relative, SpaceSection};

/// What a trial runs.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialSection {
    /// A user command (program and arguments), run in `directory`. Without
    /// it, the built-in trial trains a child of the built-in space.
    pub command: Option<Vec<String>>,
    /// The trial command's working directory (relative to the config file; default: the
    /// config file's folder), as NNI's `trialCodeDirectory`.
    pub directory: Option<PathBuf>,
    /// Built-in trial: the dataset (as `archon train --dataset`).
    #[serde(default = "default_dataset")]
    pub dataset: String,
    /// Built-in trial: the data folder or file.
    pub data_dir: Option<PathBuf>,
    /// Built-in trial: epochs.
    #[serde(default = "one")]
    pub epochs: usize,
    /// Built-in trial: training examples (a seeded subset).
    pub train_subset: Option<usize>,
    /// Built-in trial: test examples.
    pub test_subset: Option<usize>,
    /// Built-in trial: learning rate.
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Built-in trial: batch size.
    #[serde(default = "default_batch")]
    pub batch_size: i64,
    /// Built-in trial: device.
    #[serde(default = "default_device")]
    pub device: String,
    /// Per-trial time limit, e.g. "90s", "10m" (none: unlimited).
    pub timeout: Option<String>,
    /// How often a failed trial is run again before it counts as failed.
    #[serde(default)]
    pub retries: u32,
    /// NNI's BatchTuner: the search space is one `choice` of parameter sets (objects),
    /// and the `nni` module hands each trial its chosen set as its whole parameters
    /// (`{"x": 0, "y": 1}`, not `{"combine_params": {...}}`). Only with a trial
    /// `command`; the `grid` tuner then runs each set once, in order.
    #[serde(default)]
    pub batch: bool,
    /// Answer trials from this table instead of running anything (in-process): CSV
    /// with a header row (RFC 4180 quoting, a byte-order mark allowed, comma, tab or
    /// semicolon detected from the header) or JSON Lines, one column per choice label
    /// holding the candidate's value as the space writes it, every other column a
    /// metric (all reported); or a ground-truth table of `archon bench ground-truth`.
    /// An architecture twice, a column twice or an objective the table lacks is
    /// refused naming it; an architecture the table lacks is a FAILED trial.
    pub table: Option<PathBuf>,
    /// The table's column that is the trial's value (with `table`).
    pub metric: Option<String>,
    /// Answer trials with a built-in test function instead of running anything
    /// (in-process; for benchmarking tuners on numeric spaces): `branin`, `hartmann3`,
    /// `hartmann6`, `goldstein_price` (its logarithm) or `rastrigin4`. A trial reports
    /// `default` = −f(x) (larger is better) and `loss` = f(x); the space (`space.file`
    /// or `space.json`) holds the arguments `x0`, `x1`, … as numbers.
    pub function: Option<String>,
}

/// The tuner plugin.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TunerSection {
    /// The plugin's name (`archon plugins list`).
    pub name: String,
    /// Its options (`optimize_mode` is added from `direction`).
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub options: toml::Table,
    /// The proxy pre-filter: the best-scored of a random sample run first.
    #[serde(default)]
    pub prefilter: Option<super::prefilter_section::PrefilterSection>,
}

/// Where trials run.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    /// "local" or "slurm".
    #[serde(default = "default_service")]
    pub kind: String,
    /// Local: GPU indices handed to trials round-robin through CUDA_VISIBLE_DEVICES.
    #[serde(default)]
    pub gpus: Vec<u32>,
    /// Local: seconds between SIGTERM and SIGKILL when a trial is stopped.
    #[serde(default = "default_grace")]
    pub grace_seconds: u64,
    /// Slurm: the partition.
    pub partition: Option<String>,
    /// Slurm: the account.
    pub account: Option<String>,
    /// Slurm: the quality of service.
    pub qos: Option<String>,
    /// Slurm: the time limit per trial, e.g. "30m" (default: trial.timeout).
    pub time_limit: Option<String>,
    /// Slurm: CPUs per trial.
    pub cpus_per_trial: Option<u32>,
    /// Slurm: GPUs per trial (`--gres=gpu:N`).
    pub gpus_per_trial: Option<u32>,
    /// Slurm: memory per trial, e.g. "8G".
    pub mem_per_trial: Option<String>,
    /// Slurm: more sbatch arguments, e.g. ["--constraint=a100"].
    #[serde(default)]
    pub extra_args: Vec<String>,
    /// Slurm: a folder every node sees, for job scripts and outputs (default: the
    /// experiment folder, which must then be on a shared filesystem).
    pub shared_dir: Option<PathBuf>,
    /// Slurm: the most jobs queued or running at once (default: concurrency).
    pub max_queued: Option<usize>,
    /// Slurm: milliseconds between polls of the queue and the output files.
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
}

/// Builds the error for a bad value of a key (with the key's line).
type Bad<'a> = dyn Fn(&str, String) -> anyhow::Error + 'a;

impl ServiceSection {
    /// A known kind, valid limits, and no Slurm option on the local service.
    fn check(&self, bad: &Bad<'_>) -> Result<()> {
        if self.kind != "local" && self.kind != "slurm" {
            return Err(bad(
                "kind",
                format!(
                    "training service {:?} is not available (known: local, slurm)",
                    self.kind
                ),
            ));
        }
        if let Some(limit) = &self.time_limit {
            if parse_duration(limit).is_none() {
                return Err(bad(
                    "time_limit",
                    format!("{limit:?} is not a duration; write e.g. \"30m\""),
                ));
            }
        }
        if self.max_queued == Some(0) {
            return Err(bad("max_queued", "must be at least 1".into()));
        }
        if self.kind == "local"
            && (self.partition.is_some()
                || self.shared_dir.is_some()
                || !self.extra_args.is_empty())
        {
            return Err(bad(
                "kind",
                "partition, shared_dir and extra_args are Slurm options: set kind = \"slurm\""
                    .into(),
            ));
        }
        Ok(())
    }
}

impl Default for ServiceSection {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

/// Early stopping.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessorSection {
    /// "medianstop" (NNI's Medianstop: stop a trial whose best so far is worse than
    /// the median of the completed trials' running averages), "curvefitting" (NNI's
    /// Curvefitting: stop a trial whose curve, extrapolated to `epoch_num`, is worse
    /// than `threshold` times the best completed trial's last value) or "python" (an
    /// assessor class of your own, NNI's `className` + `codeDirectory` + `classArgs`:
    /// a subclass of `nni.assessor.Assessor` asked about every intermediate result).
    pub name: String,
    /// Judge a trial from its `start_step`-th intermediate metric on (curvefitting:
    /// at least the 3rd).
    #[serde(default = "one")]
    pub start_step: usize,
    /// Curvefitting: the step (epoch) whose value is predicted (required for it).
    pub epoch_num: Option<usize>,
    /// Curvefitting: the share of the best completed value a prediction must reach,
    /// in (0, 1] (default 0.95).
    pub threshold: Option<f64>,
    /// Curvefitting: judge every `gap` steps (default 1).
    pub gap: Option<usize>,
    /// Python: the assessor class, `MODULE.CLASS` (NNI's `className`).
    pub class_name: Option<String>,
    /// Python: the folder holding the class's code (relative to the config's folder;
    /// default: the config's folder), as NNI's `codeDirectory`.
    pub code_directory: Option<PathBuf>,
    /// Python: the class's keyword arguments (NNI's `classArgs`).
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub class_args: Option<toml::Table>,
    /// Python: the interpreter (default "python3").
    pub python: Option<String>,
    /// Python: seconds the class may take to answer one call before the experiment
    /// stops with an error (default 600).
    pub timeout: Option<f64>,
}

impl AssessorSection {
    /// The keys only the python assessor takes, and whether each is given.
    fn python_keys(&self) -> [(&'static str, bool); 5] {
        [
            ("class_name", self.class_name.is_some()),
            ("code_directory", self.code_directory.is_some()),
            ("class_args", self.class_args.is_some()),
            ("python", self.python.is_some()),
            ("timeout", self.timeout.is_some()),
        ]
    }
}

/// A whole experiment config.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// A name for listings.
    pub name: Option<String>,
    /// "maximize" or "minimize" (required).
    pub direction: Direction,
    /// Several objectives, e.g. `[{ metric = "default", direction = "maximize" }, {
    /// metric = "latency_ms", direction = "minimize" }]` (the built-in trial reports
    /// `params`, `flops` and `latency_ms`; a table its columns): the experiment keeps
    /// their Pareto front and its hypervolume; a tuner with an `objectives` option
    /// (`nsga2`) searches for it. Empty: one objective, `default` in `direction`.
    #[serde(default)]
    pub objectives: Vec<Objective>,
    /// The most trials to run.
    #[serde(default = "default_max_trials")]
    pub max_trials: u64,
    /// The longest the experiment may run, e.g. "30m" (none: unlimited).
    pub max_duration: Option<String>,
    /// Trials running at once.
    #[serde(default = "one")]
    pub concurrency: usize,
    /// Seed for the tuner (unless its options set one) and built-in trials.
    #[serde(default)]
    pub seed: u64,
    /// The search space.
    pub space: SpaceSection,
    /// The trial.
    pub trial: TrialSection,
    /// The tuner.
    pub tuner: TunerSection,
    /// The training service.
    #[serde(default)]
    pub training_service: ServiceSection,
    /// Early stopping (none by default).
    pub assessor: Option<AssessorSection>,
    /// What a trial's network may cost at most (`max_params`, `max_flops`,
    /// `max_latency_ms`): proposals over them never run.
    #[serde(default)]
    pub limits: archon_plugin_api::one_shot::Limits,
}

fn one() -> usize {
    1
}
fn default_max_trials() -> u64 {
    10
}
fn default_dataset() -> String {
    "fashion-mnist".into()
}
fn default_lr() -> f64 {
    0.025
}
fn default_batch() -> i64 {
    64
}
fn default_device() -> String {
    "cpu".into()
}
fn default_service() -> String {
    "local".into()
}
fn default_grace() -> u64 {
    5
}
fn default_poll() -> u64 {
    500
}

/// Parses "90s", "10m", "2h", "1d" or a number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let n: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| *n > 0.0 && n.is_finite())?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(n * scale))
}

/// The line of `key = ` in `text` (for messages about values TOML accepted).
fn line_of(text: &str, key: &str) -> String {
    text.lines()
        .position(|l| {
            l.trim_start().starts_with(key)
                && l.trim_start()[key.len()..].trim_start().starts_with('=')
        })
        .map(|i| format!(" (line {})", i + 1))
        .unwrap_or_default()
}

impl ExperimentConfig {
    /// The config recorded in an experiment's store, and its folder.
    pub fn of_store(store: &archon_store::Store) -> Result<(Self, PathBuf)> {
        let config_dir = store.config_dir()?;
        let cfg = Self::parse(&store.config_text()?, &config_dir.join("experiment.toml"))?;
        Ok((cfg, config_dir))
    }

    /// Parses and validates config text; `path` is for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let cfg: ExperimentConfig =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let bad = |key: &str, what: String| {
            anyhow::anyhow!(
                "{}: {key}{}: {what}",
                path.display(),
                line_of(text, key.rsplit('.').next().unwrap_or(key))
            )
        };
        if let Some(problem) = cfg
            .name
            .as_deref()
            .and_then(archon_core::spec::name::problem)
        {
            return Err(bad("name", problem));
        }
        cfg.check_space_and_trial(&bad)?;
        cfg.check_objectives(&bad)?;
        cfg.check_budgets(&bad)?;
        cfg.training_service.check(&bad)?;
        if let Some(p) = &cfg.tuner.prefilter {
            p.check(cfg.space.builtin.is_some())
                .map_err(|(key, what)| bad(&key, what))?;
        }
        cfg.check_limits().map_err(|(key, what)| bad(&key, what))?;
        Ok(cfg)
    }

    /// `[limits]`: valid numbers, and a built-in space to price networks of.
    fn check_limits(&self) -> std::result::Result<(), (String, String)> {
        archon_core::spec::limits::check(&self.limits)?;
        if !self.limits.is_empty() && self.space.builtin.is_none() {
            return Err((
                "limits".into(),
                "limits price the networks the host builds: they need space.builtin (a user's \
                 trial command can check its own limits and report a failure)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// A space from exactly one source, and a trial that can train it.
    fn check_space_and_trial(&self, bad: &Bad<'_>) -> Result<()> {
        let given = [
            ("space.builtin", self.space.builtin.is_some()),
            ("space.file", self.space.file.is_some()),
            ("space.json", self.space.json.is_some()),
        ];
        match given.iter().filter(|(_, set)| *set).map(|(k, _)| *k).collect::<Vec<_>>()[..] {
            [] => return Err(bad(
                "space",
                "missing: give space.builtin (see `archon space list`), space.file or space.json (NNI JSON)"
                    .into(),
            )),
            [_] => {}
            [_, second, ..] => {
                return Err(bad(
                    second,
                    "give one of space.builtin, space.file and space.json".into(),
                ))
            }
        }
        match (&self.trial.table, &self.trial.metric, &self.trial.command) {
            (Some(_), None, _) => {
                return Err(bad(
                    "trial.metric",
                    "missing: with trial.table, name the column that is the trial's value".into(),
                ))
            }
            (None, Some(_), _) => {
                return Err(bad(
                    "trial.metric",
                    "only with trial.table (a trial command reports its own metric)".into(),
                ))
            }
            (Some(_), Some(_), Some(_)) => {
                return Err(bad(
                    "trial.table",
                    "give either trial.table (look-ups) or trial.command (runs), not both".into(),
                ))
            }
            _ => {}
        }
        if let Some(name) = &self.trial.function {
            let what = if self.trial.table.is_some() {
                Some("trial.table")
            } else if self.trial.command.is_some() {
                Some("trial.command")
            } else if self.trial.metric.is_some() {
                Some("trial.metric")
            } else if self.space.builtin.is_some() {
                Some("space.builtin")
            } else {
                None
            };
            if let Some(key) = what {
                return Err(bad(
                    "trial.function",
                    format!("a test function answers trials by itself: remove {key} (the space is its arguments x0, x1, …, in space.file or space.json)"),
                ));
            }
            super::service::function::Function::named(name)
                .map_err(|e| bad("trial.function", e.to_string()))?;
        }
        if self.trial.command.is_none()
            && self.trial.table.is_none()
            && self.trial.function.is_none()
            && self.space.builtin.is_none()
        {
            return Err(bad("trial.command", "missing: a space from a file needs a user trial command or a trial.table (the built-in trial trains built-in spaces)".into()));
        }
        if self.trial.batch
            && (self.trial.command.is_none()
                || self.trial.table.is_some()
                || self.trial.function.is_some())
        {
            return Err(bad("trial.batch", "only with a trial command: the `nni` module hands each trial its parameter set (a table or test function answers by the space's own keys)".into()));
        }
        if !self.space.hyperparameters.is_empty() {
            if self.space.builtin.is_none()
                || self.trial.command.is_some()
                || self.trial.table.is_some()
            {
                return Err(bad("space.hyperparameters", "only for the built-in trial of a built-in space (a trial command or table takes numeric types in its own space file)".into()));
            }
            super::hyperparameters::search_space(&self.space.hyperparameters)
                .map_err(|(key, what)| bad(&key, what))?;
        }
        if let Some(cmd) = &self.trial.command {
            if cmd.is_empty() || cmd[0].trim().is_empty() {
                return Err(bad(
                    "command",
                    "must name a program, e.g. [\"python3\", \"trial.py\"]".into(),
                ));
            }
        }
        Ok(())
    }

    /// Objectives: none, or at least two distinct fields; `default`'s direction is
    /// `direction`.
    fn check_objectives(&self, bad: &Bad<'_>) -> Result<()> {
        let o = &self.objectives;
        if o.len() == 1 {
            return Err(bad(
                "objectives",
                "give two or more objectives (one objective is `direction` alone)".into(),
            ));
        }
        for (i, a) in o.iter().enumerate() {
            if a.metric.trim().is_empty() {
                return Err(bad(
                    "objectives",
                    format!("objective {} has an empty metric", i + 1),
                ));
            }
            if o[..i].iter().any(|b| b.metric == a.metric) {
                return Err(bad("objectives", format!("{:?} appears twice", a.metric)));
            }
            if a.metric == "default" && a.direction != self.direction {
                return Err(bad(
                    "objectives",
                    format!(
                        "\"default\" is {} here but `direction` says {}; they are the same objective",
                        a.direction.as_str(),
                        self.direction.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Trial counts, durations and the assessor.
    fn check_budgets(&self, bad: &Bad<'_>) -> Result<()> {
        if self.max_trials == 0 {
            return Err(bad("max_trials", "must be at least 1".into()));
        }
        if self.concurrency == 0 {
            return Err(bad("concurrency", "must be at least 1".into()));
        }
        for (key, value) in [
            ("max_duration", &self.max_duration),
            ("timeout", &self.trial.timeout),
        ] {
            if let Some(v) = value {
                if parse_duration(v).is_none() {
                    return Err(bad(
                        key,
                        format!("{v:?} is not a duration; write e.g. \"90s\", \"10m\", \"2h\""),
                    ));
                }
            }
        }
        if let Some(a) = &self.assessor {
            if a.name != "python" {
                if let Some((key, _)) = a.python_keys().into_iter().find(|(_, given)| *given) {
                    return Err(bad(
                        key,
                        "only for name = \"python\" (an assessor class of your own)".into(),
                    ));
                }
            }
            // Curvefitting's own keys, refused for the other assessors.
            let curve_keys_refused = |takes: &str| {
                for (key, given) in [
                    ("epoch_num", a.epoch_num.is_some()),
                    ("threshold", a.threshold.is_some()),
                    ("gap", a.gap.is_some()),
                ] {
                    if given {
                        return Err(bad(
                            key,
                            format!("only for name = \"curvefitting\" ({takes})"),
                        ));
                    }
                }
                Ok(())
            };
            match a.name.as_str() {
                "medianstop" => curve_keys_refused("medianstop takes start_step")?,
                "curvefitting" => {
                    match a.epoch_num {
                        None => return Err(bad("epoch_num", "missing: curvefitting predicts the value at this step (the trial's epochs)".into())),
                        Some(0) => return Err(bad("epoch_num", "must be at least 1".into())),
                        Some(_) => {}
                    }
                    if let Some(t) = a.threshold {
                        if !(t > 0.0 && t <= 1.0) {
                            return Err(bad("threshold", format!("must be in (0, 1], found {t}")));
                        }
                    }
                    if a.gap == Some(0) {
                        return Err(bad("gap", "must be at least 1".into()));
                    }
                }
                "python" => {
                    curve_keys_refused("a python assessor takes class_args")?;
                    if a.start_step != 1 {
                        return Err(bad("start_step", "only for medianstop and curvefitting (a python class is asked from the first result on, as under NNI)".into()));
                    }
                    let class = a.class_name.as_deref().unwrap_or_default().trim();
                    archon_plugin_support::python_bridge::check_class_name(class)
                        .map_err(|why| bad("class_name", why))?;
                    if let Some(t) = a.timeout {
                        archon_plugin_support::python_bridge::check_timeout(t)
                            .map_err(|why| bad("timeout", why))?;
                    }
                }
                other => {
                    return Err(bad(
                        "name",
                        format!(
                            "assessor {other:?} is not available (known: medianstop, curvefitting, python)"
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the experiment config {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// The per-trial timeout.
    pub fn trial_timeout(&self) -> Option<Duration> {
        self.trial.timeout.as_deref().and_then(parse_duration)
    }

    /// Trials running (or queued on the cluster) at once.
    pub fn concurrency_limit(&self) -> usize {
        self.concurrency
            .min(self.training_service.max_queued.unwrap_or(usize::MAX))
    }

    /// The threads each trial should use on a machine with `cores`: the local service
    /// shares the cores among `concurrency` trials (at least one each: libtorch's
    /// default of one thread per core in every trial oversubscribes them, and its
    /// spinning workers then slow every trial many times over); a Slurm job gets its
    /// `cpus_per_trial`, when given.
    pub fn trial_threads(&self, cores: usize) -> Option<usize> {
        match self.training_service.kind.as_str() {
            "slurm" => self.training_service.cpus_per_trial.map(|c| c as usize),
            _ => Some((cores / self.concurrency.max(1)).max(1)),
        }
    }

    /// The experiment's time limit.
    pub fn max_duration(&self) -> Option<Duration> {
        self.max_duration.as_deref().and_then(parse_duration)
    }

    /// The tuner's options as JSON, with `optimize_mode` from `direction` and the
    /// experiment seed unless the options set them.
    pub fn tuner_options(&self) -> Result<String> {
        let mut options = serde_json::to_value(&self.tuner.options)?;
        let map = options
            .as_object_mut()
            .context("tuner.options must be a table")?;
        map.entry("optimize_mode")
            .or_insert_with(|| self.direction.as_str().into());
        map.entry("seed").or_insert_with(|| self.seed.into());
        Ok(options.to_string())
    }

    /// [`tuner_options`](Self::tuner_options) with what a tuner asks for by declaring
    /// the option: `objectives` (a multi-objective tuner; others optimise `default`),
    /// `max_trials` (a tuner whose defaults are sized to the budget), and the host's
    /// `provided` values (the config's folder, the `nni` package's folder), each
    /// unless the options set it.
    pub fn tuner_options_for(
        &self,
        declares: impl Fn(&str) -> bool,
        provided: &[(&str, serde_json::Value)],
    ) -> Result<String> {
        let mut options: serde_json::Value = serde_json::from_str(&self.tuner_options()?)?;
        if let Some(map) = options.as_object_mut() {
            for (key, value) in provided {
                if declares(key) {
                    map.entry(key.to_string()).or_insert_with(|| value.clone());
                }
            }
            if !self.objectives.is_empty() && declares("objectives") {
                map.entry("objectives")
                    .or_insert_with(|| serde_json::to_value(&self.objectives).unwrap_or_default());
            }
            if declares("max_trials") {
                map.entry("max_trials")
                    .or_insert_with(|| self.max_trials.into());
            }
        }
        Ok(options.to_string())
    }
}

impl ExperimentConfig {
    /// What the built-in trial trains: the architecture `parameters` (NNI JSON) of the
    /// built-in space, as `[trial]` says, reporting each epoch's metric.
    pub fn trial_spec(&self, config_dir: &Path, parameters: String) -> Result<TrainSpec> {
        let space = self
            .space
            .builtin
            .clone()
            .context("the built-in trial needs space.builtin")?;
        let t = &self.trial;
        let mut parameters: serde_json::Value =
            serde_json::from_str(&parameters).context("trial parameters: not valid JSON")?;
        let mut spec = TrainSpec {
            space,
            arch: String::new(),
            space_spec: SpaceSpec::from_toml(&self.space.options)?,
            data: DataSpec {
                dataset: t.dataset.clone(),
                data_dir: t.data_dir.as_ref().map(|d| resolve_relative(config_dir, d)),
                seed: self.seed,
                ..DataSpec::default()
            },
            epochs: t.epochs,
            batch_size: t.batch_size,
            lr: t.lr,
            train_subset: t.train_subset,
            test_subset: t.test_subset,
            device: t.device.clone(),
            seed: self.seed,
            report_metrics: true,
            ..TrainSpec::default()
        };
        super::hyperparameters::apply(&mut spec, &self.space.hyperparameters, &mut parameters)?;
        spec.arch = parameters.to_string();
        Ok(spec)
    }
}

/// Fails with a clear message if `cfg` cannot run at all.
pub fn check_runnable(cfg: &ExperimentConfig) -> Result<()> {
    // The built-in trial's training values (a trial command takes its own).
    if cfg.trial.command.is_none() && cfg.trial.function.is_none() {
        let t = &cfg.trial;
        TrainSpec {
            epochs: t.epochs,
            batch_size: t.batch_size,
            lr: t.lr,
            train_subset: t.train_subset,
            test_subset: t.test_subset,
            ..TrainSpec::default()
        }
        .check(|k| format!("trial.{k}"))?;
        // Local trials run on this machine: their device must be here (Slurm trials
        // run on the cluster's nodes, which this machine cannot see).
        if cfg.training_service.kind != "slurm" && cfg.trial.table.is_none() {
            archon_spaces::parse_device(&t.device)
                .map_err(|e| anyhow::anyhow!("trial.device: {e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
direction = "maximize"
max_trials = 4
[space]
builtin = "nas-bench-201"
[trial]
command = ["python3", "trial.py"]
timeout = "30s"
[tuner]
name = "random"
"#;

    fn err(text: &str) -> String {
        format!(
            "{:#}",
            ExperimentConfig::parse(text, Path::new("exp.toml")).unwrap_err()
        )
    }

    #[test]
    fn assessor_keys_are_checked_by_name() {
        for (section, words) in [
            ("name = \"curvefitting\"", "epoch_num"),
            ("name = \"curvefitting\"\nepoch_num = 0", "epoch_num"),
            (
                "name = \"curvefitting\"\nepoch_num = 9\nthreshold = 1.2",
                "threshold",
            ),
            ("name = \"curvefitting\"\nepoch_num = 9\ngap = 0", "gap"),
            (
                "name = \"medianstop\"\ngap = 2",
                "only for name = \"curvefitting\"",
            ),
            ("name = \"nope\"", "known: medianstop, curvefitting, python"),
            ("name = \"python\"", "class_name"),
            (
                "name = \"python\"\nclass_name = \"Judge\"",
                "write MODULE.CLASS",
            ),
            (
                "name = \"python\"\nclass_name = \"a.Judge\"\ntimeout = -1",
                "timeout",
            ),
            (
                "name = \"python\"\nclass_name = \"a.Judge\"\nstart_step = 3",
                "start_step",
            ),
            (
                "name = \"python\"\nclass_name = \"a.Judge\"\ngap = 2",
                "only for name = \"curvefitting\"",
            ),
            (
                "name = \"medianstop\"\nclass_name = \"a.Judge\"",
                "only for name = \"python\"",
            ),
        ] {
            let e = err(&format!("{GOOD}\n[assessor]\n{section}\n"));
            assert!(e.contains(words), "{section}: {e}");
        }
        let ok = format!("{GOOD}\n[assessor]\nname = \"curvefitting\"\nepoch_num = 9\n");
        ExperimentConfig::parse(&ok, Path::new("exp.toml")).unwrap();
    }

    #[test]
    fn batch_is_only_for_a_trial_command() {
        let builtin = GOOD.replace("command = [\"python3\", \"trial.py\"]", "batch = true");
        let e = err(&builtin);
        assert!(
            e.contains("trial.batch") && e.contains("only with a trial command"),
            "{e}"
        );
        let ok = GOOD.replace("timeout = \"30s\"", "timeout = \"30s\"\nbatch = true");
        assert!(
            ExperimentConfig::parse(&ok, Path::new("exp.toml"))
                .unwrap()
                .trial
                .batch
        );
    }

    #[test]
    fn parses_and_fills_defaults() {
        let cfg = ExperimentConfig::parse(GOOD, Path::new("exp.toml")).unwrap();
        assert_eq!(cfg.concurrency, 1);
        assert_eq!(cfg.trial_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(
            cfg.tuner_options().unwrap(),
            r#"{"optimize_mode":"maximize","seed":0}"#
        );
    }

    #[test]
    fn trials_share_the_cores_locally_and_take_their_cpus_on_slurm() {
        let local = |concurrency: &str| {
            let text = GOOD.replace("max_trials = 4", &format!("max_trials = 4\n{concurrency}"));
            ExperimentConfig::parse(&text, Path::new("exp.toml")).unwrap()
        };
        assert_eq!(local("").trial_threads(16), Some(16));
        assert_eq!(local("concurrency = 2").trial_threads(2), Some(1));
        assert_eq!(local("concurrency = 3").trial_threads(16), Some(5));
        assert_eq!(local("concurrency = 4").trial_threads(2), Some(1));
        let slurm = |extra: &str| {
            let text =
                format!("{GOOD}[training_service]\nkind = \"slurm\"\npartition = \"p\"\n{extra}");
            ExperimentConfig::parse(&text, Path::new("exp.toml")).unwrap()
        };
        assert_eq!(slurm("cpus_per_trial = 8\n").trial_threads(2), Some(8));
        assert_eq!(slurm("").trial_threads(2), None);
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let e = err(&GOOD.replace("max_trials = 4", "max_trials = 4\nmax_trails = 5"));
        assert!(e.contains("line 4") && e.contains("max_trails"), "{e}");
        let e = err(&GOOD.replace("direction = \"maximize\"", "direction = \"max\""));
        assert!(e.contains("line 2") && e.contains("maximize"), "{e}");
        let e = err(&GOOD.replace("direction = \"maximize\"\n", ""));
        assert!(e.contains("direction"), "{e}");
        let e = err(&GOOD.replace("timeout = \"30s\"", "timeout = \"soon\""));
        assert!(
            e.contains("exp.toml: timeout (line 8): \"soon\" is not a duration"),
            "{e}"
        );
        let e = err(&GOOD.replace("max_trials = 4", "max_trials = 0"));
        assert!(e.contains("max_trials (line 3): must be at least 1"), "{e}");
        let e = err(&GOOD.replace(
            "builtin = \"nas-bench-201\"",
            "builtin = \"darts\"\nfile = \"x.json\"",
        ));
        assert!(
            e.contains("give one of space.builtin, space.file and space.json"),
            "{e}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5m"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("-3s"), None);
        assert_eq!(parse_duration("3 weeks"), None);
    }
}
