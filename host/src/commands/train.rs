//! `archon train`: train one architecture of a space on a dataset, report its test
//! accuracy, params and FLOPs, optionally save the weights.

use super::{dataset, space_config::space_config};
use crate::cli::TrainArgs;
use crate::plugins::SearchPath;
use anyhow::{bail, Context, Result};
use archon_spaces::{
    hub,
    hub::nb201_parse_arch_string,
    parse_device,
    train::{evaluate, save_weights, train, Augment, TrainConfig, TrainEvent},
    Child,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::{path::Path, process::ExitCode, time::Instant};

/// Reads `--arch`: a file, inline JSON, or a NAS-Bench-201 arch string.
fn architecture(arg: &str, space: &str) -> Result<serde_json::Value> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("reading {arg}"))?
    } else {
        arg.to_string()
    };
    let trimmed = text.trim();
    if trimmed.starts_with('|') && space == "nas-bench-201" {
        return Ok(nb201_parse_arch_string(trimmed)?);
    }
    if !trimmed.starts_with('{') && !Path::new(arg).exists() {
        bail!("--arch {arg:?}: no such file, and not inline JSON (NNI parameters such as {{\"op\": {{\"_idx\": 1}}}})");
    }
    serde_json::from_str(trimmed).with_context(|| format!("--arch {arg:?}: not valid JSON"))
}

/// Runs `archon train`.
pub fn run(args: &TrainArgs, search_path: &SearchPath) -> Result<ExitCode> {
    train_child(args, search_path, false)?;
    Ok(ExitCode::SUCCESS)
}

/// Trains the child `args` describe and returns its test accuracy (`quiet`: no
/// progress bar).
pub fn train_child(args: &TrainArgs, search_path: &SearchPath, quiet: bool) -> Result<f64> {
    let family = hub::space(&args.space)?;
    let mut cfg = space_config(&args.space_args, search_path)?;
    let device = parse_device(&args.device)?;
    let arch = architecture(&args.arch, family.name())?;
    let data = dataset::load(args)?;
    (
        cfg.input_channels,
        cfg.image_size,
        cfg.num_classes,
        cfg.vocab_size,
    ) = (data.channels, data.image_size, data.classes, data.vocab);
    let train_set = data
        .train
        .subset(args.train_subset.unwrap_or(usize::MAX), args.seed);
    let test_set = data.test.subset(
        args.test_subset.unwrap_or(usize::MAX),
        args.seed.wrapping_add(1),
    );
    println!(
        "data: {}; {} training and {} test examples",
        data.summary,
        train_set.len(),
        test_set.len()
    );
    archon_plugin_api::tch::manual_seed(args.seed as i64);
    let mut child = Child::build(family, &cfg, &arch, device)?;
    println!(
        "{} child on {device:?}: {} params, {} MFLOPs (multiply-adds per example)",
        family.name(),
        child.params(),
        child.flops_for(&train_set.inputs.narrow(0, 0, 1)) as f64 / 1e6
    );
    let tc = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        augment: Augment {
            cutout: args.cutout,
            ..Augment::default()
        },
        drop_path: args.drop_path,
        aux_weight: args.aux_weight,
        seed: args.seed,
        ..TrainConfig::default()
    };
    let bar = ProgressBar::new(0);
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} loss {msg} ({eta})")?
            .progress_chars("=> "),
    );
    let start = Instant::now();
    let epochs = args.epochs;
    let report_metrics = args.report_metrics;
    let reports = train(
        &mut child,
        &train_set,
        &test_set,
        &tc,
        &mut |event| match event {
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
                bar.suspend(|| {
                println!(
                    "epoch {:>3}: lr {:.4}  train loss {:.4}  train acc {:.4}  test acc {:.4}  ({:.1} s)",
                    r.epoch + 1,
                    r.lr,
                    r.train_loss,
                    r.train_accuracy,
                    r.valid_accuracy,
                    r.seconds
                );
                if report_metrics {
                    let last = r.epoch + 1 == epochs;
                    println!("ARCHON_METRIC {}", serde_json::json!({"default": r.valid_accuracy, "step": r.epoch + 1, "final": last}));
                }
            });
            }
        },
    )?;
    bar.finish_and_clear();
    let accuracy = reports
        .last()
        .map(|r| r.valid_accuracy)
        .map(Ok)
        .unwrap_or_else(|| evaluate(&child, &test_set, 256))?;
    println!(
        "test accuracy {accuracy:.4} after {:.1} s",
        start.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.save {
        save_weights(&child, path)
            .with_context(|| format!("saving weights to {}", path.display()))?;
        println!("weights saved to {}", path.display());
    }
    Ok(accuracy)
}
