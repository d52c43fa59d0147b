//! `archon bench one-shot`: one search epoch at NNI's DARTS yardstick configuration
//! (DARTS space, width 8, 5 cells, batch 64, 10,000 Fashion-MNIST images split
//! 5,000 / 5,000, 28×28 repeated to 3 channels): time, images/s, peak resident memory,
//! and how close a supernet step comes to libtorch alone on the same convolutions.

use crate::args::OneShotBenchArgs;
use anyhow::{bail, Context, Result};
use archon_core::reporter;
use archon_core::{args::RunsDir, plugins::SearchPath};
use archon_plugin_api::{
    one_shot::Grads,
    space::ChoiceKind,
    tch::{self, Device, Kind, Tensor},
};
use archon_search as search;
use archon_search::{RunOptions, SearchConfig};
use archon_spaces::{
    choice::Setting,
    hub::{self, SpaceConfig},
    nn::{channels_last, ConvCall},
    parallel, parse_device, Supernet,
};
use archon_store::Store;
use std::{path::Path, process::ExitCode, time::Instant};

/// Peak resident memory of this process so far (VmHWM), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn config(args: &OneShotBenchArgs) -> Result<String> {
    let mut options = toml::Table::new();
    for option in &args.options {
        let Some((k, v)) = option.split_once('=') else {
            bail!("--option {option:?}: expected KEY=VALUE, e.g. --option order=2");
        };
        let value = v
            .parse::<toml::Value>()
            .or_else(|_| toml::Value::try_from(v))
            .with_context(|| format!("--option {option:?}"))?;
        options.insert(k.trim().to_string(), value);
    }
    let steps = args
        .steps
        .map(|s| format!("steps_per_epoch = {s}\n"))
        .unwrap_or_default();
    Ok(format!(
        r#"name = "bench"
[space]
builtin = "darts"
options = {{ width = {}, cells = {}, nodes = 4 }}
[data]
dataset = "fashion-mnist"
train_subset = {}
channels = 3
pad_to = {}
[search]
algorithm = "{}"
epochs = 1
batch_size = {}
device = "{}"
{steps}options = {}
"#,
        args.width,
        args.cells,
        args.images,
        args.image_size,
        args.algorithm,
        args.batch,
        args.device,
        toml::Value::Table(options)
    ))
}

/// Seconds for one forward + backward pass of every convolution in `calls`, run by
/// libtorch alone (random inputs of the same shapes and memory order); best of `reps`.
pub fn convs_alone(calls: &[ConvCall], device: Device, reps: usize) -> f64 {
    let operands: Vec<(Tensor, Tensor)> = calls
        .iter()
        .map(|c| {
            let mut x = Tensor::randn(c.input.as_slice(), (Kind::Float, device));
            if c.channels_last {
                x = channels_last(&x);
            }
            let w = Tensor::randn(c.weight.as_slice(), (Kind::Float, device));
            (x.set_requires_grad(true), w.set_requires_grad(true))
        })
        .collect();
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let start = Instant::now();
        for (c, (x, w)) in calls.iter().zip(&operands) {
            let y = x.conv2d::<Tensor>(
                w,
                None,
                c.stride.as_slice(),
                c.padding.as_slice(),
                [c.dilation],
                c.groups,
            );
            // Both gradients, as in the supernet (inputs and weights).
            let _ = Tensor::run_backward(&[&y.sum(Kind::Float)], &[x, w], false, false);
        }
        if device != Device::Cpu {
            tch::Cuda::synchronize(0);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

/// One weighted (DARTS) forward + backward of the supernet split across `replicas`
/// (1: one pass on libtorch's intra-op threads): (seconds, its convolutions).
fn weighted_step(
    cfg: &SpaceConfig,
    device: Device,
    batch: i64,
    replicas: usize,
    reps: usize,
) -> Result<(f64, Vec<ConvCall>)> {
    let family = hub::space("darts")?;
    let mut supernet = Supernet::build(family, cfg, device)?;
    supernet.set_replicas(family, cfg, replicas)?;
    for p in supernet.choices().to_vec() {
        let n = p.num_candidates();
        let setting = match p.kind {
            ChoiceKind::Input { .. } => Setting::Fixed((0..n).collect()),
            _ => Setting::Weighted {
                indices: (0..n).collect(),
                weights: Tensor::full([n as i64], 1.0 / n as f64, (Kind::Float, device)),
            },
        };
        supernet.set(&p.label, setting)?;
    }
    let xs = Tensor::randn(
        [batch, cfg.input_channels, cfg.image_size, cfg.image_size],
        (Kind::Float, device),
    );
    let ys = Tensor::randint(cfg.num_classes, [batch], (Kind::Int64, device));
    let calls = supernet.conv_calls(&xs)?;
    let mut best = f64::INFINITY;
    for _ in 0..=reps {
        let start = Instant::now();
        supernet.forward_backward(&xs, &ys, Grads::WEIGHTS)?;
        if device != Device::Cpu {
            tch::Cuda::synchronize(0);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok((best, calls))
}

/// The `partial_channels` option a PC-DARTS run passes (1: none): the weighted step
/// is then timed on the supernet that plugin rebuilds.
fn partial_channels(args: &OneShotBenchArgs) -> u64 {
    if args.algorithm != "pcdarts" {
        return 1;
    }
    args.options
        .iter()
        .find_map(|o| o.strip_prefix("partial_channels="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(4)
}

/// Runs `archon bench one-shot`.
pub fn run(args: &OneShotBenchArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let text = config(args)?;
    let cfg = SearchConfig::parse(&text, Path::new("bench.toml"))?;
    let runs = tempfile_dir()?;
    let dir = archon_store::runs::record_new(
        &RunsDir { path: runs.clone() },
        "bench",
        &text,
        Path::new("."),
    )?;
    let store = Store::open(&dir)?;
    let device = parse_device(&args.device)?;
    let size = args.image_size;
    reporter::note(format!(
        "bench: {} {:?} on darts (width {}, {} cells), batch {}, {} Fashion-MNIST images ({} weights / {} architecture), 3×{size}×{size}, {device:?}, {} threads",
        args.algorithm,
        args.options,
        args.width,
        args.cells,
        args.batch,
        args.images,
        args.images / 2,
        args.images - args.images / 2,
        tch::get_num_threads()
    ));
    let outcome = search::run(
        &cfg,
        Path::new("."),
        &store,
        search_path,
        &RunOptions {
            quiet: true,
            ..RunOptions::default()
        },
    );
    let _ = std::fs::remove_dir_all(&runs);
    let outcome = outcome?;
    let full_steps = ((args.images / 2) as f64 / args.batch as f64).ceil();
    let per_image = 1.0 / outcome.images_per_second.max(1e-12);
    let epoch_seconds = per_image * full_steps * 2.0 * args.batch as f64;
    let weight_images = outcome.images_per_second / 2.0;
    reporter::note(format!(
        "epoch: {epoch_seconds:.1} s ({} steps{}); {weight_images:.1} weight-training images/s, {:.1} images/s over both splits",
        full_steps,
        if args.steps.is_some() { ", extrapolated from the timed steps" } else { "" },
        outcome.images_per_second
    ));
    let peak = peak_rss().map(|b| b as f64 / (1u64 << 30) as f64);
    if let Some(gb) = peak {
        reporter::note(format!("peak resident memory: {gb:.2} GiB"));
    }
    // No peer figure is printed here: a ratio to NNI is only valid when both run in
    // the same script on the same machine, one after the other (docs/results.md "Benchmarks").
    let space_cfg = SpaceConfig {
        input_channels: 3,
        image_size: args.image_size,
        num_classes: 10,
        options: archon_plugin_api::Options::from_json_str(&format!(
            r#"{{"width": {}, "cells": {}, "nodes": 4, "partial_channels": {}}}"#,
            args.width,
            args.cells,
            partial_channels(args)
        ))?,
        ..SpaceConfig::default()
    };
    let replicas = parallel::auto_replicas(device, args.batch);
    let (step, calls) = weighted_step(&space_cfg, device, args.batch, replicas, 3)?;
    let (serial, _) = weighted_step(&space_cfg, device, args.batch, 1, 3)?;
    let alone = convs_alone(&calls, device, 3);
    reporter::note(format!(
        "one weighted forward+backward: {:.0} ms over {replicas} replica(s) ({:.0} ms as one pass on {} intra-op threads); its {} convolutions alone in libtorch: {:.0} ms: the supernet step runs at {:.0} % of libtorch's speed on its convolutions ({:.0} % as one pass)",
        step * 1e3,
        serial * 1e3,
        tch::get_num_threads(),
        calls.len(),
        alone * 1e3,
        100.0 * alone / step,
        100.0 * alone / serial
    ));
    Ok(ExitCode::SUCCESS)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("archon-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
