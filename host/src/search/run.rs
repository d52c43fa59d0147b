//! Running a one-shot search: data, supernet, the trainer plugin, progress bars, the
//! experiment store, export (architecture and genotype) and optional retraining.

use super::{
    checkpoint,
    config::SearchConfig,
    host::{SearchHost, WeightOptim},
};
use crate::{
    cli::{SpaceArgs, TrainArgs},
    commands::{dataset, space_config::space_config, train::train_child},
    experiment::{
        config::resolve_relative,
        store::{now, Store},
    },
    plugins::{resolve, SearchPath},
};
use anyhow::{bail, Context, Result};
use archon_plugin_api::{
    one_shot::{ChoiceInfo, DecisionKind, Report, SearchDevice, SearchInfo},
    space::ChoiceKind,
    tch, Architecture, OneShotClient, PluginKind,
};
use archon_spaces::{hub, parse_device, Supernet};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::{path::Path, time::Instant};

/// Overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Retrain the found architecture from scratch.
    pub retrain: bool,
    /// Overrides `search.device`.
    pub device: Option<String>,
    /// Overrides `search.epochs`.
    pub epochs: Option<usize>,
    /// No progress bars (tests, pipes); summaries are still printed.
    pub quiet: bool,
    /// Continue from the experiment's last checkpoint.
    pub resume: bool,
}

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
            ChoiceKind::Value { values } => (
                DecisionKind::Value,
                values.iter().map(|v| v.to_string()).collect(),
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

fn space_args(space: &toml::Table) -> SpaceArgs {
    SpaceArgs {
        options: space.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        input: "1x28x28".into(),
        classes: 10,
        vocab: 10_000,
        cell_plugin: None,
    }
}

/// The `archon train` arguments for the data (and, with `arch`, the retraining).
fn train_args(cfg: &SearchConfig, config_dir: &Path, arch: String) -> TrainArgs {
    let mut options = cfg.space.options.clone();
    options.extend(cfg.retrain.options.clone());
    TrainArgs {
        space: cfg.space.builtin.clone().unwrap_or_default(),
        arch,
        space_args: space_args(&options),
        epochs: cfg.retrain.epochs,
        batch_size: cfg.retrain.batch_size,
        lr: cfg.retrain.lr,
        cutout: 0,
        drop_path: 0.0,
        aux_weight: 0.4,
        train_subset: cfg.retrain.train_subset.or(cfg.data.train_subset),
        test_subset: cfg.data.test_subset,
        dataset: cfg.data.dataset.clone(),
        data_dir: cfg
            .data
            .data_dir
            .as_ref()
            .map(|d| resolve_relative(config_dir, d)),
        image_size: 32,
        max_len: 64,
        device: cfg.search.device.clone(),
        seed: cfg.seed,
        save: None,
        report_metrics: false,
        channels: cfg.data.channels,
    }
}

fn bar(quiet: bool) -> Result<ProgressBar> {
    let bar = ProgressBar::new(0);
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed} < {eta})",
        )?
        .progress_chars("=> "),
    );
    Ok(bar)
}

/// Metrics as one line, `name value` pairs.
pub fn metric_text(metrics: &std::collections::BTreeMap<String, f64>) -> String {
    metrics
        .iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect::<Vec<_>>()
        .join("  ")
}

/// Runs the search configured by `cfg` (from the folder `config_dir`), recording into
/// `store`.
pub fn run(
    cfg: &SearchConfig,
    config_dir: &Path,
    store: &Store,
    search_path: &SearchPath,
    opts: &RunOptions,
) -> Result<Outcome> {
    let mut cfg = cfg.clone();
    if let Some(d) = &opts.device {
        cfg.search.device = d.clone();
    }
    if let Some(e) = opts.epochs {
        cfg.search.epochs = e;
    }
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
    let mut trainer = OneShotClient::from_box(
        new_trainer(options.as_str().into())
            .into_result()
            .with_context(|| format!("search.options for {}", plugin.name))?,
    );

    let family = hub::space(cfg.space.builtin.as_deref().unwrap_or_default())?;
    let device = parse_device(&cfg.search.device)?;
    let mut args = train_args(&cfg, config_dir, String::new());
    // Channels are repeated after taking the subset (a 3-channel copy of all of
    // Fashion-MNIST would be 0.6 GB).
    args.channels = None;
    let data = dataset::load(&args)?;
    let mut space_cfg = space_config(&space_args(&cfg.space.options), search_path)?;
    (
        space_cfg.input_channels,
        space_cfg.image_size,
        space_cfg.num_classes,
        space_cfg.vocab_size,
    ) = (data.channels, data.image_size, data.classes, data.vocab);
    let mut pool = data
        .train
        .subset(cfg.data.train_subset.unwrap_or(usize::MAX), cfg.seed);
    if let Some(c) = cfg.data.channels {
        dataset::repeat_channels(&mut pool, data.channels, c, &cfg.data.dataset)?;
        space_cfg.input_channels = c;
    }
    let summary = data.summary.clone();
    drop(data);
    let (weight_split, arch_split) = pool.split(1.0 - cfg.data.arch_fraction, cfg.seed);
    if weight_split.is_empty() || arch_split.is_empty() {
        bail!(
            "data: {} training examples are too few to split into weight and architecture halves",
            pool.len()
        );
    }
    tch::manual_seed(cfg.seed as i64);
    let supernet = Supernet::build(family, &space_cfg, device)?;
    let batch = cfg.search.batch_size;
    let full_steps = (weight_split.len() as i64 + batch - 1) / batch;
    let steps = cfg
        .search
        .steps_per_epoch
        .map_or(full_steps, |s| (s as i64).min(full_steps))
        .max(1) as usize;
    let info = SearchInfo {
        space: family.name().into(),
        choices: choice_infos(&supernet),
        cell_based: family.cell_based(),
        search_space: supernet.search_space().to_json(),
        epochs: cfg.search.epochs,
        steps_per_epoch: steps,
        batch_size: batch,
        device: SearchDevice::from_tch(device),
        seed: cfg.seed,
    };
    let search_space = supernet.search_space().clone();
    {
        println!(
            "data: {}; {} weight-training and {} architecture-validation examples",
            summary,
            weight_split.len(),
            arch_split.len()
        );
        println!(
            "search: {} on {} ({} decisions, {} supernet params) with {} on {device:?}, {} epochs × {steps} steps of {batch}",
            family.name(),
            summary.split(':').next().unwrap_or_default(),
            info.choices.len(),
            supernet.var_store().trainable_variables().iter().map(|t| t.numel()).sum::<usize>(),
            plugin.name,
            cfg.search.epochs
        );
    }
    store.set_meta("kind", "one-shot")?;
    store.set_meta("status", "RUNNING")?;
    store.set_meta("algorithm", &plugin.name)?;
    store.set_meta("space", family.name())?;
    store.set_meta(
        "search_space",
        &supernet.search_space().to_json().to_string(),
    )?;
    store.set_meta("started", &now().to_string())?;

    let w = &cfg.weights;
    let optim = WeightOptim {
        momentum: w.momentum,
        weight_decay: w.weight_decay,
        grad_clip: w.grad_clip,
    };
    let epochs = cfg.search.epochs;
    let bar = bar(opts.quiet)?;
    let mut steps_done = 0usize;
    // Step records are written with their epoch's record.
    let mut pending: Vec<(usize, usize, String, f64)> = Vec::new();
    let mut sink = |report: Report| -> Result<()> {
        match report {
            Report::Step {
                epoch,
                step,
                metrics,
            } => {
                pending.push((epoch, step, serde_json::to_string(&metrics)?, now()));
                if step == 0 {
                    bar.set_length(steps as u64);
                    bar.set_position(0);
                    bar.set_prefix(format!("{}/{epochs}", epoch + 1));
                }
                steps_done += 1;
                bar.set_position((step + 1) as u64);
                bar.set_message(metric_text(&metrics));
            }
            Report::Population {
                generation,
                population,
            } => {
                store.add_search_population(generation, &serde_json::to_string(&population)?)?;
                let best = population.iter().map(|s| s.score).fold(f64::NAN, f64::max);
                bar.suspend(|| {
                    println!(
                        "generation {:>3}: {} architectures, best {best:.4}",
                        generation + 1,
                        population.len()
                    )
                });
            }
            Report::Epoch {
                epoch,
                metrics,
                arch_weights,
                architecture,
            } => {
                store.add_search_steps(&pending)?;
                pending.clear();
                let arch = architecture.as_ref().map(|a| a.to_string());
                store.add_search_epoch(
                    epoch,
                    &serde_json::to_string(&metrics)?,
                    &serde_json::to_string(&arch_weights)?,
                    arch.as_deref(),
                )?;
                bar.suspend(|| println!("epoch {:>3}: {}", epoch + 1, metric_text(&metrics)));
            }
        }
        Ok(())
    };
    let lr_at = |epoch: usize| {
        let progress = epoch as f64 / epochs.max(1) as f64;
        w.lr_min + 0.5 * (w.lr - w.lr_min) * (1.0 + (std::f64::consts::PI * progress).cos())
    };
    let start = Instant::now();
    let architecture = {
        let mut host = SearchHost::new(
            family,
            space_cfg.clone(),
            supernet,
            (weight_split.to_device(device), arch_split.to_device(device)),
            info,
            optim,
            lr_at(0),
            &mut sink,
        )?;
        let first = match checkpoint::load(store.dir())? {
            Some(saved) if opts.resume => {
                host.restore(&checkpoint::dir(store.dir()), &saved.host)
                    .context("restoring the networks from the checkpoint")?;
                trainer
                    .load_state(&mut host, &saved.trainer)
                    .with_context(|| format!("{}: restoring its state", plugin.name))?;
                eprintln!("resuming after epoch {} of {epochs}", saved.epoch + 1);
                saved.epoch + 1
            }
            _ => {
                trainer
                    .begin(&mut host)
                    .with_context(|| format!("{}: begin", plugin.name))?;
                0
            }
        };
        let mut resumable = true;
        for epoch in first..epochs {
            host.set_lr(lr_at(epoch));
            let _span = tracing::info_span!("epoch", epoch).entered();
            trainer
                .epoch(&mut host, epoch)
                .with_context(|| format!("{}: epoch {}", plugin.name, epoch + 1))?;
            if resumable && epoch + 1 < epochs {
                match trainer.save_state() {
                    Ok(state) => checkpoint::save(store.dir(), epoch, &state, &host)?,
                    Err(e) => {
                        resumable = false;
                        tracing::warn!("{}: no checkpoints ({e})", plugin.name);
                    }
                }
            }
        }
        trainer
            .export(&mut host)
            .with_context(|| format!("{}: export", plugin.name))?
    };
    bar.finish_and_clear();
    let search_seconds = start.elapsed().as_secs_f64();
    let arch = Architecture::from_json(&search_space, &architecture).with_context(|| {
        format!(
            "{} exported an architecture that is not valid for the space",
            plugin.name
        )
    })?;
    let architecture = arch.to_json(&search_space);
    let genotype = family.genotype(&architecture);
    store.set_meta("architecture", &architecture.to_string())?;
    std::fs::write(
        store.dir().join("architecture.json"),
        serde_json::to_string_pretty(&architecture)?,
    )?;
    if let Some(g) = &genotype {
        store.set_meta("genotype", g)?;
    }
    store.set_meta("search_seconds", &search_seconds.to_string())?;
    // Each step sees one batch of each split.
    let images_per_second = (steps_done as f64 * 2.0 * batch as f64) / search_seconds.max(1e-9);
    store.set_meta("images_per_second", &images_per_second.to_string())?;
    let retrain_accuracy = if opts.retrain {
        store.set_meta("status", "RETRAINING")?;
        let args = train_args(&cfg, config_dir, architecture.to_string());
        let accuracy = train_child(&args, search_path, opts.quiet)?;
        store.set_meta("retrain_accuracy", &accuracy.to_string())?;
        Some(accuracy)
    } else {
        None
    };
    store.set_meta("status", "DONE")?;
    store.set_meta("ended", &now().to_string())?;
    Ok(Outcome {
        architecture,
        genotype,
        search_seconds,
        images_per_second,
        retrain_accuracy,
    })
}
