//! Running a one-shot search in named steps: the trainer plugin, data and space, the
//! supernet, the search epochs (checkpointed, resumable), export (architecture and
//! genotype) and optional retraining. One manager per experiment: a search holds the
//! experiment's [`ManagerLock`] while it runs.

use super::{
    config::SearchConfig,
    epochs::Search,
    limits,
    prepare::{prepare, Prepared, RunOptions},
};
use anyhow::{Context, Result};
use archon_core::{
    child::train_child,
    plugins::{resolve, SearchPath},
    spec::Export,
};
use archon_plugin_api::{
    one_shot::{ChoiceInfo, DecisionKind, SearchDevice, SearchInfo},
    space::ChoiceKind,
    tch, Architecture, OneShotClient, PluginKind, SearchSpace,
};
use archon_spaces::{hub::SpaceFamily, Supernet};
use archon_store::{lock::ManagerLock, now, status::ExperimentStatus, Store};
use std::{path::Path, time::Instant};

/// What a search found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The exported architecture (NNI format).
    pub architecture: serde_json::Value,
    /// The paper's form of it, for cell spaces.
    pub genotype: Option<String>,
    /// Seconds of searching.
    pub search_seconds: f64,
    /// Images per second over both splits during the search.
    pub images_per_second: f64,
    /// Test accuracy of the retrained child.
    pub retrain_accuracy: Option<f64>,
}

fn choice_infos(supernet: &Supernet) -> Vec<ChoiceInfo> {
    let mut out: Vec<ChoiceInfo> = Vec::new();
    for p in supernet.choices() {
        if out.iter().any(|c| c.label == p.label) {
            continue;
        }
        let (kind, candidates, n_chosen) = match &p.kind {
            ChoiceKind::Layer { candidates } => (DecisionKind::Layer, candidates.clone(), None),
            ChoiceKind::Input {
                candidates,
                n_chosen,
            } => (DecisionKind::Input, candidates.clone(), *n_chosen),
            other => (
                DecisionKind::Value,
                (0..other.num_candidates())
                    .map(|i| other.candidate_value(i).to_string())
                    .collect(),
                None,
            ),
        };
        out.push(ChoiceInfo {
            label: p.label.clone(),
            kind,
            candidates,
            roles: p.roles.clone(),
            group: p.group.clone(),
            n_chosen,
            edges: p.edges.clone(),
        });
    }
    out
}

/// Runs the search configured by `cfg` (from the folder `config_dir`), recording into
/// `store`. Refused while another manager runs the experiment; a search that fails is
/// recorded as FAILED with its error.
pub fn run(
    cfg: &SearchConfig,
    config_dir: &Path,
    store: &Store,
    search_path: &SearchPath,
    opts: &RunOptions,
) -> Result<Outcome> {
    let _lock = ManagerLock::acquire(store.dir())?;
    let result = run_locked(
        &with_overrides(cfg, opts),
        config_dir,
        store,
        search_path,
        opts,
    );
    if let Err(e) = &result {
        store.set_status(ExperimentStatus::Failed)?;
        store.set_meta("error", &format!("{e:#}"))?;
    }
    result
}

/// `cfg` with the command line's device and epochs.
fn with_overrides(cfg: &SearchConfig, opts: &RunOptions) -> SearchConfig {
    let mut cfg = cfg.clone();
    if let Some(d) = &opts.device {
        cfg.search.device = d.clone();
    }
    if let Some(e) = opts.epochs {
        cfg.search.epochs = e;
    }
    cfg
}

fn run_locked(
    cfg: &SearchConfig,
    config_dir: &Path,
    store: &Store,
    search_path: &SearchPath,
    opts: &RunOptions,
) -> Result<Outcome> {
    let (plugin, mut trainer) = load_trainer(cfg, search_path)?;
    let data = prepare(cfg, config_dir, search_path)?;
    tch::manual_seed(cfg.seed as i64);
    let supernet = Supernet::build(data.family, &data.space_cfg, data.device)?;
    let info = search_info(cfg, &data, &supernet);
    announce(cfg, &data, &supernet, &info, &plugin);
    record_start(store, &plugin, data.family, &supernet)?;
    let search_space = supernet.search_space().clone();
    let family = data.family;
    let space_cfg = data.space_cfg.clone();
    let example = data
        .weight_split
        .inputs
        .narrow(0, 0, 1)
        .to_device(data.device);
    let start = Instant::now();
    let run = Search {
        cfg,
        store,
        plugin: &plugin,
        opts,
    };
    let (architecture, steps_done) = run.search(&mut trainer, data, supernet, info)?;
    let search_seconds = start.elapsed().as_secs_f64();
    let (architecture, genotype) = export(store, &plugin, family, &search_space, &architecture)?;
    if !cfg.limits.is_empty() {
        let measured = limits::check_export(
            &plugin,
            (family, &space_cfg),
            &architecture,
            &cfg.limits,
            &example,
        )?;
        archon_core::reporter::note(format!(
            "within limits ({}): {} params, {} multiply-adds, {:.2} ms per image",
            cfg.limits.describe(),
            measured.params,
            measured.flops,
            measured.latency_ms
        ));
        store.set_meta("export_costs", &serde_json::to_string(&measured)?)?;
    }
    store.set_meta("search_seconds", &search_seconds.to_string())?;
    // Each step sees one batch of each split.
    let images_per_second =
        (steps_done as f64 * 2.0 * cfg.search.batch_size as f64) / search_seconds.max(1e-9);
    store.set_meta("images_per_second", &images_per_second.to_string())?;
    let retrain_accuracy = if opts.retrain {
        Some(retrain(
            cfg,
            config_dir,
            store,
            search_path,
            &architecture,
            opts,
        )?)
    } else {
        None
    };
    store.set_status(ExperimentStatus::Done)?;
    store.set_meta("ended", &now().to_string())?;
    Ok(Outcome {
        architecture,
        genotype,
        search_seconds,
        images_per_second,
        retrain_accuracy,
    })
}

/// Loads the one-shot trainer plugin `search.algorithm` with its options; returns its
/// name and the trainer.
fn load_trainer(cfg: &SearchConfig, search_path: &SearchPath) -> Result<(String, OneShotClient)> {
    let plugin = resolve(&cfg.search.algorithm, search_path).context("search.algorithm")?;
    let new_trainer = plugin
        .module()
        .new_one_shot_trainer()
        .filter(|_| plugin.kinds.contains(&PluginKind::OneShotTrainer))
        .with_context(|| {
            format!(
                "search.algorithm: plugin {:?} is not a one-shot trainer (it provides: {}); for a tuner use `archon experiment run` with [tuner]",
                plugin.name,
                plugin.kinds_text()
            )
        })?;
    let options = cfg.algorithm_options()?;
    let trainer = OneShotClient::from_box(
        new_trainer(options.as_str().into())
            .into_result()
            .with_context(|| format!("search.options for {}", plugin.name))?,
    );
    Ok((plugin.name.clone(), trainer))
}

/// What the trainer is told about the search before it begins.
fn search_info(cfg: &SearchConfig, data: &Prepared, supernet: &Supernet) -> SearchInfo {
    let batch = cfg.search.batch_size;
    let full_steps = (data.weight_split.len() as i64 + batch - 1) / batch;
    let steps = cfg
        .search
        .steps_per_epoch
        .map_or(full_steps, |s| (s as i64).min(full_steps))
        .max(1) as usize;
    SearchInfo {
        space: data.family.name().into(),
        choices: choice_infos(supernet),
        cell_based: data.family.cell_based(),
        search_space: supernet.search_space().to_json(),
        epochs: cfg.search.epochs,
        steps_per_epoch: steps,
        batch_size: batch,
        device: SearchDevice::from_tch(data.device),
        seed: cfg.seed,
        limits: cfg.limits,
    }
}

/// Prints what is about to be searched.
fn announce(
    cfg: &SearchConfig,
    data: &Prepared,
    supernet: &Supernet,
    info: &SearchInfo,
    plugin: &str,
) {
    archon_core::reporter::note(format!(
        "data: {}; {} weight-training and {} architecture-validation examples",
        data.summary,
        data.weight_split.len(),
        data.arch_split.len()
    ));
    let params: usize = supernet
        .var_store()
        .trainable_variables()
        .iter()
        .map(|t| t.numel())
        .sum();
    archon_core::reporter::note(format!(
        "search: {} on {} ({} decisions, {params} supernet params) with {plugin} on {:?}, {} epochs × {} steps of {}",
        data.family.name(),
        data.summary.split(':').next().unwrap_or_default(),
        info.choices.len(),
        data.device,
        cfg.search.epochs,
        info.steps_per_epoch,
        info.batch_size,
    ));
}

/// Records that the search has started, with what it searches.
fn record_start(
    store: &Store,
    plugin: &str,
    family: &dyn SpaceFamily,
    supernet: &Supernet,
) -> Result<()> {
    store.set_one_shot()?;
    store.set_status(ExperimentStatus::Running)?;
    store.set_manager_pid()?;
    store.set_meta("algorithm", plugin)?;
    store.set_meta("space", family.name())?;
    store.set_meta(
        "search_space",
        &supernet.search_space().to_json().to_string(),
    )?;
    store.set_meta("started", &now().to_string())
}

/// Checks the exported architecture against the space and records it (store and
/// `architecture.json`) with its genotype.
fn export(
    store: &Store,
    plugin: &str,
    family: &dyn SpaceFamily,
    search_space: &SearchSpace,
    exported: &serde_json::Value,
) -> Result<(serde_json::Value, Option<String>)> {
    let arch = Architecture::from_json(search_space, exported).with_context(|| {
        format!("{plugin} exported an architecture that is not valid for the space")
    })?;
    let architecture = arch.to_json(search_space);
    let genotype = family.genotype(&architecture);
    store.set_meta("architecture", &architecture.to_string())?;
    std::fs::write(
        store.dir().join("architecture.json"),
        serde_json::to_string_pretty(&architecture)?,
    )?;
    if let Some(g) = &genotype {
        store.set_meta("genotype", g)?;
    }
    Ok((architecture, genotype))
}

/// Retrains the found architecture from scratch; returns its test accuracy.
/// The retrained child's weights, in the experiment's folder.
pub const CHILD_WEIGHTS: &str = "child.safetensors";

fn retrain(
    cfg: &SearchConfig,
    config_dir: &Path,
    store: &Store,
    search_path: &SearchPath,
    architecture: &serde_json::Value,
    opts: &RunOptions,
) -> Result<f64> {
    store.set_status(ExperimentStatus::Retraining)?;
    let mut spec = cfg.retrain_spec(config_dir, architecture.to_string())?;
    spec.time_budget = opts.budget;
    spec.save = Some(store.dir().join(CHILD_WEIGHTS));
    spec.export = opts.export.map(|format| Export {
        format,
        path: store.dir().join(format.default_file()),
    });
    let accuracy = train_child(&spec, search_path, opts.quiet)?.accuracy;
    store.set_meta("retrain_accuracy", &accuracy.to_string())?;
    Ok(accuracy)
}
