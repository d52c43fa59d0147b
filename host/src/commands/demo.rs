//! `archon demo`: loads a tuner plugin and drives it through a toy search space end to
//! end — search space, trials, results, a checkpoint and a resume — with a synthetic
//! objective whose optimum is known, so the output can be checked by eye.

use crate::cli::DemoArgs;
use anyhow::{bail, Context, Result};
use archon_core::plugins::{resolve, SearchPath};
use archon_plugin_api::{Architecture, PluginKind, SearchSpace, TunerClient};
use std::{collections::HashSet, process::ExitCode};

/// The toy space: 3 × 4 × 4 × 2 × 3 = 288 architectures.
pub const TOY_SPACE: &str = r#"{
  "stem":   {"_type": "layer_choice", "_value": ["conv3x3", "conv5x5", "sep_conv3x3"]},
  "block1": {"_type": "layer_choice", "_value": ["conv3x3", "max_pool", "skip", "sep_conv5x5"]},
  "block2": {"_type": "layer_choice", "_value": ["conv3x3", "max_pool", "skip", "sep_conv5x5"]},
  "block2_input": {"_type": "input_choice", "_value": {"candidates": ["stem", "block1"], "n_chosen": 1}},
  "width":  {"_type": "choice", "_value": [16, 32, 64]}
}"#;

/// A synthetic "accuracy" for a toy architecture; the best is
/// sep_conv3x3 / sep_conv5x5 / sep_conv5x5 / block1 / 64 with 0.95.
pub fn toy_objective(space: &SearchSpace, arch: &Architecture) -> f64 {
    const STEM: [f64; 3] = [0.02, 0.01, 0.03];
    const BLOCK: [f64; 4] = [0.03, 0.00, 0.01, 0.05];
    const INPUT: [f64; 2] = [0.00, 0.02];
    const WIDTH: [f64; 3] = [0.00, 0.01, 0.02];
    let mut score = 0.78;
    for (choice, selection) in space.choices().iter().zip(arch.selections()) {
        let i = selection.indices().first().copied().unwrap_or(0);
        score += match choice.name() {
            "stem" => STEM[i],
            "block1" | "block2" => BLOCK[i],
            "block2_input" => INPUT[i],
            "width" => WIDTH[i],
            _ => 0.0,
        };
    }
    score
}

/// Runs the demo.
pub fn run(args: &DemoArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let plugin = resolve(&args.tuner, search_path)?;
    if !plugin.kinds.contains(&PluginKind::Tuner) {
        bail!(
            "plugin {:?} is not a tuner (it provides: {})",
            plugin.name,
            plugin.kinds_text()
        );
    }
    println!(
        "loaded tuner {:?} {} from {}",
        plugin.name,
        plugin.version,
        plugin.path.display()
    );
    let space = SearchSpace::from_json_str(TOY_SPACE).context("the toy space")?;
    let new_tuner = plugin.module().new_tuner();
    let options = format!(r#"{{"seed": {}, "optimize_mode": "maximize"}}"#, args.seed);
    let make = || -> Result<TunerClient> {
        let mut tuner = TunerClient::from_box(new_tuner(options.as_str().into()).into_result()?);
        tuner.update_search_space(TOY_SPACE)?;
        Ok(tuner)
    };
    let mut tuner = make()?;
    print_header(&space, args.trials);
    let mut best: Option<(f64, u64)> = None;
    let mut seen = HashSet::new();
    let checkpoint_at = args.trials / 2;
    for id in 0..args.trials {
        if id == checkpoint_at && id > 0 {
            let state = tuner.save_state()?;
            tuner = make()?;
            tuner.load_state(&state)?;
            println!("  -- checkpoint: saved the tuner state ({} bytes), restored it into a new tuner, continuing --", state.len());
        }
        let Some(params) = tuner.generate_parameters(id)? else {
            println!("  -- the tuner has no more trials: the space is exhausted --");
            break;
        };
        let arch = Architecture::from_json(&space, &params)
            .with_context(|| format!("the tuner's parameters for trial {id}"))?;
        if !seen.insert(arch.clone()) {
            bail!("the tuner proposed an architecture twice (trial {id})");
        }
        let accuracy = toy_objective(&space, &arch);
        tuner.receive_trial_result(
            id,
            &params.to_string(),
            &format!(r#"{{"default": {accuracy}}}"#),
        )?;
        tuner.trial_end(id, true)?;
        if best.is_none_or(|(b, _)| accuracy > b) {
            best = Some((accuracy, id));
        }
        let best_mark = if best.is_some_and(|(_, b)| b == id) {
            "*"
        } else {
            ""
        };
        println!(
            "{id:>5}  {:<80}  {accuracy:>8.4}  {best_mark}",
            summary(&space, &arch)
        );
    }
    print_best(best, seen.len());
    Ok(ExitCode::SUCCESS)
}

/// The toy space's size and the table's header.
fn print_header(space: &SearchSpace, trials: u64) {
    println!(
        "toy space: {} choices, {} architectures; running up to {} trials\n",
        space.choices().len(),
        space.size().unwrap_or_default(),
        trials
    );
    println!(
        "{:>5}  {:<80}  {:>8}  best",
        "trial", "architecture", "accuracy"
    );
}

/// The best trial (accuracy, id) among `distinct` architectures.
fn print_best(best: Option<(f64, u64)>, distinct: usize) {
    match best {
        Some((accuracy, id)) => println!(
            "\nbest: trial {id} with accuracy {accuracy:.4} after {distinct} distinct architectures (the toy optimum is 0.9500)"
        ),
        None => println!("\nno trials ran"),
    }
}

/// `name=value` pairs of an architecture, compact.
fn summary(space: &SearchSpace, arch: &Architecture) -> String {
    let json = arch.to_json(space);
    space
        .choices()
        .iter()
        .map(|c| {
            let v = &json[c.name()]["_value"];
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().unwrap_or("?").to_string())
                    .collect::<Vec<_>>()
                    .join("+"),
                other => other.to_string(),
            };
            format!("{}={v}", c.name())
        })
        .collect::<Vec<_>>()
        .join(" ")
}
