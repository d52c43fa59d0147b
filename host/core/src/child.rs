//! Training a child from scratch as a [`TrainSpec`] says (`archon train`, the built-in
//! trial, a search's retraining): report its test accuracy, params and FLOPs, optionally
//! save the weights.

use crate::{
    plugins::SearchPath,
    progress,
    spec::{data, TrainSpec},
};
use anyhow::{bail, Context, Result};
use archon_spaces::{
    data::Dataset,
    hub::{self, nb201_ops, nb201_parse_arch_string, SpaceConfig},
    parse_device,
    train::{evaluate, save_weights, train, Augment, EpochReport, TrainConfig, TrainEvent},
    Child,
};
use std::{path::Path, time::Instant};

/// Reads `--arch`: a file, inline JSON, or a NAS-Bench-201 arch string (of the space
/// `cfg` configures).
pub fn architecture(arg: &str, space: &str, cfg: &SpaceConfig) -> Result<serde_json::Value> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("reading {arg}"))?
    } else {
        arg.to_string()
    };
    let trimmed = text.trim();
    if trimmed.starts_with('|') && space == "nas-bench-201" {
        return Ok(nb201_parse_arch_string(trimmed, &nb201_ops(cfg)?)?);
    }
    if !trimmed.starts_with('{') && !Path::new(arg).exists() {
        bail!("--arch {arg:?}: no such file, and not inline JSON (NNI parameters such as {{\"op\": {{\"_idx\": 1}}}})");
    }
    serde_json::from_str(trimmed).with_context(|| format!("--arch {arg:?}: not valid JSON"))
}

/// What training a child gave.
#[derive(Debug, Clone, Copy)]
pub struct Trained {
    /// Its test accuracy after the last epoch.
    pub accuracy: f64,
    /// The sum of its epochs' training losses, those before `start_epoch` included
    /// (`tse`, training speed estimation).
    pub tse: f64,
    /// Its trainable parameters.
    pub params: u64,
    /// Its multiply-accumulates per example.
    pub flops: u64,
    /// Seconds of training and evaluation.
    pub seconds: f64,
}

/// Trains the child `spec` describes and returns its test accuracy and `tse` (`quiet`:
/// no progress bar).
pub fn train_child(spec: &TrainSpec, search_path: &SearchPath, quiet: bool) -> Result<Trained> {
    let _span = tracing::info_span!("child", space = %spec.space).entered();
    let family = hub::space(&spec.space)?;
    let device = parse_device(&spec.device)?;
    let (cfg, train_set, test_set) = load_data(spec, search_path)?;
    let arch = architecture(&spec.arch, family.name(), &cfg)?;
    if let Some(export) = &spec.export {
        if train_set.inputs.kind() != archon_plugin_api::tch::Kind::Float {
            bail!(
                "--export {:?}: the {} space takes text (token ids) and cannot be traced into TorchScript (its masks depend on each text's length); export image spaces only",
                export.format,
                family.name()
            );
        }
    }
    // With a validation split, epochs are judged on it and the test set is used once.
    let split = match spec.holdout {
        0 => None,
        n => Some(holdout(&train_set, n, spec.seed)?),
    };
    let (fit, valid) = match &split {
        Some((fit, valid)) => {
            crate::reporter::note(format!(
                "validation: {} training examples held out (epochs report their accuracy; the test set is used once, at the end)",
                valid.len()
            ));
            (fit, valid)
        }
        None => (&train_set, &test_set),
    };
    archon_plugin_api::tch::manual_seed(spec.seed as i64);
    let mut child = Child::build(family, &cfg, &arch, device)?;
    if spec.recipe.standardize && child.standardize_inputs(&fit.inputs) {
        crate::reporter::note("inputs standardised by the training split's per-channel mean and deviation (inside the network)");
    }
    if let Some(path) = &spec.load {
        load_weights(&mut child, path).with_context(|| {
            format!(
                "loading weights from {}: they must be saved (--save) from this same architecture, space and options",
                path.display()
            )
        })?;
        crate::reporter::note(format!("weights loaded from {}", path.display()));
    }
    // The network's costs, the same before and after training: what multi-objective
    // searches trade accuracy against (every metric line) and what the run ends with.
    let example = train_set.inputs.narrow(0, 0, 1);
    let flops = child.flops_for(&example);
    let latency = archon_spaces::train::latency_ms(&child, &example, 10)?;
    crate::reporter::note(format!(
        "{} child on {device:?}: {} params, {} MFLOPs (multiply-adds per example)",
        family.name(),
        child.params(),
        flops as f64 / 1e6
    ));
    let planned;
    let spec = match &spec.time_budget {
        Some(budget) => {
            let build = || -> archon_spaces::Result<Child> {
                let mut probe = Child::build(family, &cfg, &arch, device)?;
                if spec.recipe.standardize {
                    probe.standardize_inputs(&fit.inputs);
                }
                Ok(probe)
            };
            planned = plan_epochs(spec, budget, build, (fit, valid.len()))?;
            &planned
        }
        None => spec,
    };
    let costs = if spec.report_metrics {
        serde_json::json!({
            "params": child.params(),
            "flops": flops,
            "latency_ms": latency,
        })
    } else {
        serde_json::json!({})
    };
    let start = Instant::now();
    let (reports, tse) = train_epochs(spec, &mut child, fit, valid, &costs, quiet)?;
    let accuracy = match (&split, reports.last()) {
        (Some(_), last) => {
            if let Some(last) = last {
                crate::reporter::note(format!("validation accuracy {:.4}", last.valid_accuracy));
            }
            evaluate(&child, &test_set, 1000)?
        }
        (None, Some(last)) => last.valid_accuracy,
        (None, None) => evaluate(&child, &test_set, 1000)?,
    };
    finish(
        spec,
        &mut child,
        (&test_set, &cfg, &arch),
        (accuracy, tse),
        (flops, latency),
        start,
    )
}

/// `spec` with as many epochs (at most `spec.epochs`) as fit into what is left of
/// `budget`, measured on a throwaway child from `build` training on `fit` and
/// evaluating `eval_examples` per epoch.
fn plan_epochs(
    spec: &TrainSpec,
    budget: &crate::budget::Budget,
    build: impl Fn() -> archon_spaces::Result<Child>,
    (fit, eval_examples): (&Dataset, usize),
) -> Result<TrainSpec> {
    let epoch_seconds =
        crate::budget::epoch_seconds(build, &train_config(spec), fit, eval_examples)?;
    let left = budget.remaining_seconds();
    let epochs = crate::budget::epochs_that_fit(epoch_seconds, left, spec.epochs)?;
    crate::reporter::note(format!(
        "budget: {left:.0} s left; one epoch measured at {epoch_seconds:.1} s: {epochs} epochs (at most {})",
        spec.epochs
    ));
    Ok(TrainSpec {
        epochs,
        ..spec.clone()
    })
}

/// Splits `holdout` examples off `train` (seeded) as a validation split: `(rest,
/// held out)`.
fn holdout(train: &Dataset, holdout: usize, seed: u64) -> Result<(Dataset, Dataset)> {
    if holdout >= train.len() {
        bail!(
            "holdout (--holdout, retrain.holdout): {holdout} validation examples leave none of the {} training examples to train on; hold out fewer",
            train.len()
        );
    }
    let fraction = (train.len() - holdout) as f64 / train.len() as f64;
    Ok(train.split(fraction, seed.wrapping_add(0x5eed)))
}

/// Prints the test accuracy and the network's costs (`flops`, `latency` in ms), saves
/// and exports the trained child as `spec` says.
fn finish(
    spec: &TrainSpec,
    child: &mut Child,
    (test_set, cfg, arch): (&Dataset, &SpaceConfig, &serde_json::Value),
    (accuracy, tse): (f64, f64),
    (flops, latency): (u64, f64),
    start: Instant,
) -> Result<Trained> {
    let seconds = start.elapsed().as_secs_f64();
    crate::reporter::note(format!("test accuracy {accuracy:.4} after {seconds:.1} s"));
    crate::reporter::note(format!(
        "the network: {} params, {latency:.2} ms per image (batch 1, {:?})",
        child.params(),
        child.var_store().device()
    ));
    if let Some(path) = &spec.save {
        save_weights(child, path)
            .with_context(|| format!("saving weights to {}", path.display()))?;
        crate::reporter::note(format!("weights saved to {}", path.display()));
    }
    if let Some(export) = &spec.export {
        crate::child_export::export_child(child, test_set, (spec, cfg, arch), export, accuracy)?;
    }
    Ok(Trained {
        accuracy,
        tse,
        params: child.params(),
        flops,
        seconds,
    })
}

/// Loads `path` into `child`: the file must hold exactly the child's tensors (tch
/// alone would ignore extra ones, e.g. another architecture's operations).
fn load_weights(child: &mut Child, path: &Path) -> Result<()> {
    let tensors = archon_plugin_api::tch::Tensor::read_safetensors(path).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a safetensors weights file ({})",
            path.display(),
            crate::readable_error::clean(&e.to_string())
        )
    })?;
    let variables = child.var_store().variables();
    // Same names but other shapes: saved at another width or with other options.
    for (name, t) in &tensors {
        if let Some(own) = variables.get(name) {
            if own.size() != t.size() {
                bail!(
                    "tensor {name} is {:?} in the file but {:?} in this child: the weights \
                     were saved with other space options (e.g. another width)",
                    t.size(),
                    own.size()
                );
            }
        }
    }
    let file: std::collections::BTreeSet<String> =
        tensors.into_iter().map(|(name, _)| name).collect();
    let own: std::collections::BTreeSet<String> = variables.into_keys().collect();
    let list = |names: Vec<&String>| {
        let shown: Vec<&str> = names.iter().take(3).map(|s| s.as_str()).collect();
        format!(
            "{}{}",
            shown.join(", "),
            if names.len() > 3 { ", …" } else { "" }
        )
    };
    let extra: Vec<&String> = file.difference(&own).collect();
    let missing: Vec<&String> = own.difference(&file).collect();
    if !extra.is_empty() || !missing.is_empty() {
        bail!(
            "the file has {} tensors this child lacks ({}) and lacks {} of its ({})",
            extra.len(),
            list(extra),
            missing.len(),
            list(missing)
        );
    }
    child.var_store_mut().load(path)?;
    Ok(())
}

/// The space's configuration for the data, and the (subset) train and test splits.
fn load_data(
    spec: &TrainSpec,
    search_path: &SearchPath,
) -> Result<(SpaceConfig, Dataset, Dataset)> {
    let mut cfg = spec.space_spec.config(search_path)?;
    let data = data::load(&spec.data)?;
    data.shape(&mut cfg);
    let train_set = data
        .train
        .subset(spec.train_subset.unwrap_or(usize::MAX), spec.seed);
    let test_set = data.test.subset(
        spec.test_subset.unwrap_or(usize::MAX),
        spec.seed.wrapping_add(1),
    );
    crate::reporter::note(format!(
        "data: {}; {} training and {} test examples",
        data.summary,
        train_set.len(),
        test_set.len()
    ));
    Ok((cfg, train_set, test_set))
}

/// Runs the epochs with a progress bar, printing a line per epoch (and the metric
/// protocol's line when `spec.report_metrics`); returns the reports and the sum of
/// the training losses, those before `spec.start_epoch` included (`tse`).
fn train_epochs(
    spec: &TrainSpec,
    child: &mut Child,
    train_set: &Dataset,
    test_set: &Dataset,
    costs: &serde_json::Value,
    quiet: bool,
) -> Result<(Vec<EpochReport>, f64)> {
    let tc = train_config(spec);
    crate::reporter::note(format!(
        "training: {} epochs, batch {}, lr {}, drop_path {}, cutout {}; {}",
        tc.epochs, tc.batch_size, tc.lr, tc.drop_path, tc.augment.cutout, tc.recipe
    ));
    let bar = progress::bar(
        "epoch {prefix} [{bar:30}] {pos}/{len} loss {msg} ({eta})",
        quiet,
    )?;
    let epochs = spec.epochs;
    let mut tse = spec.train_loss_before;
    let reports = train(child, train_set, test_set, &tc, &mut |event| match event {
        TrainEvent::Step(p) => {
            if p.step == 0 {
                bar.set_length(p.steps as u64);
                bar.set_position(0);
                bar.set_prefix(format!("{}/{}", p.epoch + 1, epochs));
            }
            bar.inc(1);
            bar.set_message(format!("{:.3}", p.loss));
        }
        TrainEvent::Epoch(r) => {
            let _span = tracing::info_span!("epoch", epoch = r.epoch).entered();
            tracing::debug!(
                valid_accuracy = r.valid_accuracy,
                seconds = r.seconds,
                "epoch done"
            );
            tse += r.train_loss;
            let label = if spec.holdout > 0 { "valid" } else { "test" };
            bar.suspend(|| print_epoch(&r, (epochs, label), spec.report_metrics, costs, tse));
        }
    })?;
    bar.finish_and_clear();
    Ok((reports, tse))
}

/// The library's training configuration for `spec`.
fn train_config(spec: &TrainSpec) -> TrainConfig {
    TrainConfig {
        epochs: spec.epochs,
        start_epoch: spec.start_epoch,
        stop_epoch: spec.stop_epoch,
        batch_size: spec.batch_size,
        lr: spec.lr,
        recipe: spec.recipe,
        augment: Augment {
            cutout: spec.cutout,
            ..Augment::default()
        },
        drop_path: spec.drop_path,
        aux_weight: spec.aux_weight,
        seed: spec.seed,
        ..TrainConfig::default()
    }
}

/// Prints an epoch's line and, for a trial, its metric: the test accuracy as the
/// value, the epoch's training loss and the sum of the training losses so far (`tse`,
/// what multi-fidelity tuners can rank by: `promote_by = "tse"`), and the costs.
fn print_epoch(
    r: &EpochReport,
    (epochs, label): (usize, &str),
    report_metrics: bool,
    costs: &serde_json::Value,
    tse: f64,
) {
    use crate::number::metric;
    crate::reporter::epoch(format!(
        "epoch {:>3}: lr {}  train loss {}  train acc {:.4}  {label} acc {:.4}  ({:.1} s)",
        r.epoch + 1,
        metric(r.lr),
        metric(r.train_loss),
        r.train_accuracy,
        r.valid_accuracy,
        r.seconds
    ));
    if report_metrics {
        let last = r.epoch + 1 == epochs;
        let mut metric = serde_json::json!({"default": r.valid_accuracy, "step": r.epoch + 1, "final": last,
                "train_loss": r.train_loss, "tse": tse});
        if let (Some(m), Some(c)) = (metric.as_object_mut(), costs.as_object()) {
            m.extend(c.clone());
        }
        crate::reporter::metric(format!("ARCHON_METRIC {metric}"));
    }
}
