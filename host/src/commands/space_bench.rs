//! `archon space bench NAME`: how fast a space's supernet and children train on this
//! machine — build time, parameters, and milliseconds per forward+backward step under
//! a weighted setting (differentiable search), a fixed single path (sampling search),
//! and for a child network. Steps are averaged after one warm-up step.

use anyhow::Result;
use archon_core::args::space_config;
use archon_core::{args::SpaceArgs, plugins::SearchPath};
use archon_plugin_api::{
    space::ChoiceKind,
    tch::{Device, Kind, Tensor},
};
use archon_spaces::{choice::Setting, hub, parse_device, Child, Supernet};
use std::time::Instant;

/// What to measure.
pub struct BenchArgs<'a> {
    /// The space.
    pub name: &'a str,
    /// Its options.
    pub space: &'a SpaceArgs,
    /// Examples per step.
    pub batch: i64,
    /// Timed steps (after one warm-up).
    pub steps: usize,
    /// Device name.
    pub device: &'a str,
    /// The child's architecture (`archon train --arch`'s forms), else the middle one.
    pub arch: Option<&'a str>,
}

fn input(cfg: &archon_spaces::hub::SpaceConfig, name: &str, batch: i64, device: Device) -> Tensor {
    if name == "textnas" {
        Tensor::randint_low(1, cfg.vocab_size, [batch, 64], (Kind::Int64, device))
    } else {
        Tensor::rand(
            [batch, cfg.input_channels, cfg.image_size, cfg.image_size],
            (Kind::Float, device),
        )
    }
}

/// Mean milliseconds of `step` over `steps` runs after a warm-up.
fn time_ms(steps: usize, mut step: impl FnMut() -> Result<()>) -> Result<f64> {
    step()?;
    let start = Instant::now();
    for _ in 0..steps {
        step()?;
    }
    Ok(start.elapsed().as_secs_f64() * 1000.0 / steps.max(1) as f64)
}

/// Runs the benchmark and prints a table.
pub fn run(args: &BenchArgs, search_path: &SearchPath) -> Result<()> {
    let family = hub::space(args.name)?;
    let cfg = space_config(args.space, search_path)?;
    let device = parse_device(args.device)?;
    archon_plugin_api::tch::manual_seed(0);
    let start = Instant::now();
    let mut supernet = Supernet::build(family, &cfg, device)?;
    let build_ms = start.elapsed().as_secs_f64() * 1000.0;
    let params: i64 = supernet
        .var_store()
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    let labels = Tensor::zeros([args.batch], (Kind::Int64, device));
    let xs = input(&cfg, args.name, args.batch, device);
    let step = |net: &Supernet| -> Result<()> {
        Ok(net
            .forward(&xs, true)?
            .cross_entropy_for_logits(&labels)
            .f_backward()?)
    };
    let weighted = weighted_ms(&mut supernet, args.steps, device, step)?;
    let fixed = fixed_ms(&mut supernet, args.steps, step)?;

    // A child of one architecture.
    let space = supernet.search_space().clone();
    let arch = match args.arch {
        Some(text) => archon_plugin_api::Architecture::from_json(
            &space,
            &archon_core::child::architecture(text, family.name(), &cfg)?,
        )?,
        None => space
            .architecture_at(space.size().map(|n| n / 2).unwrap_or(0))
            .unwrap_or_else(|| {
                space
                    .architecture_at(0)
                    .expect("a space has an architecture")
            }),
    };
    supernet.set_architecture(&arch)?;
    let same_path = time_ms(args.steps, || step(&supernet))?;
    let child = Child::build(family, &cfg, &arch.to_json(&space), device)?;
    let child_ms = time_ms(args.steps, || {
        Ok(child
            .forward(&xs, true)?
            .cross_entropy_for_logits(&labels)
            .f_backward()?)
    })?;

    println!(
        "space {} on {device:?}, batch {}, {} timed steps",
        family.name(),
        args.batch,
        args.steps
    );
    println!("supernet: {params} params, built in {build_ms:.0} ms");
    print_table(
        args.batch,
        &[
            ("supernet, weighted (differentiable)", weighted),
            ("supernet, fixed single path (sampling)", fixed),
            ("supernet, fixed to the child's path", same_path),
            ("child network", child_ms),
        ],
    );
    println!(
        "child: {} params, {:.2} MFLOPs per example; trains at {:.0} images/s",
        child.params(),
        child.flops_for(&xs.narrow(0, 0, 1)) as f64 / 1e6,
        args.batch as f64 * 1000.0 / child_ms.max(1e-9)
    );
    // How close a child's training step comes to libtorch alone on its convolutions.
    let calls = child.conv_calls(&xs)?;
    let alone_ms = archon_bench::commands::one_shot::convs_alone(&calls, device, 3) * 1e3;
    println!(
        "child step: {child_ms:.1} ms; its {} convolutions alone in libtorch: {alone_ms:.1} ms: the child trains at {:.0} % of libtorch's speed on its convolutions",
        calls.len(),
        100.0 * alone_ms / child_ms.max(1e-9)
    );
    Ok(())
}

/// Weighted steps: softmax mixtures over every layer and value choice (recomputed each
/// step, as a differentiable search does), all inputs on.
fn weighted_ms(
    supernet: &mut Supernet,
    steps: usize,
    device: Device,
    step: impl Fn(&Supernet) -> Result<()>,
) -> Result<f64> {
    let mut seen = std::collections::HashSet::new();
    let points: Vec<_> = supernet
        .choices()
        .iter()
        .filter(|p| seen.insert(p.label.clone()))
        .cloned()
        .collect();
    let alphas: Vec<Tensor> = points
        .iter()
        .map(|p| {
            Tensor::zeros([p.num_candidates() as i64], (Kind::Float, device))
                .set_requires_grad(true)
        })
        .collect();
    time_ms(steps, || {
        for (p, alpha) in points.iter().zip(&alphas) {
            let n = p.num_candidates();
            let setting = match p.kind {
                ChoiceKind::Input { .. } => Setting::Fixed((0..n).collect()),
                _ => Setting::Weighted {
                    indices: (0..n).collect(),
                    weights: alpha.softmax(0, Kind::Float),
                },
            };
            supernet.set(&p.label, setting)?;
        }
        step(supernet)
    })
}

/// Fixed steps: a new single path each step.
fn fixed_ms(
    supernet: &mut Supernet,
    steps: usize,
    step: impl Fn(&Supernet) -> Result<()>,
) -> Result<f64> {
    let space = supernet.search_space().clone();
    let mut k: u128 = 1;
    time_ms(steps, || {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let arch = match space.size() {
            Some(n) => space.architecture_at(k % n),
            None => space.architecture_at(0),
        };
        if let Some(arch) = arch {
            supernet.set_architecture(&arch)?;
        }
        step(supernet)
    })
}

/// ms per step and examples per second of each timed row.
fn print_table(batch: i64, rows: &[(&str, f64)]) {
    println!(
        "{:<40} {:>10} {:>12}",
        "forward+backward", "ms/step", "examples/s"
    );
    for (what, ms) in rows {
        println!("{what:<40} {ms:>10.1} {:>12.0}", batch as f64 * 1000.0 / ms);
    }
}
