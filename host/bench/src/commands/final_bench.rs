//! `archon bench final CONFIG`: does the searched network beat what a practitioner
//! would have used instead? Per seed, the config's search runs and its network is
//! trained by `[retrain]` (recipe, data, size); beside it, under the identical recipe:
//! the largest architecture of the space within the same parameter limit, random
//! search's pick at equal wall time (from a ground-truth table), and the ResNet
//! reference nearest in size. Each is judged on the test set once, at the end of its
//! training.

use super::quality::{load_matching, with_seed, StdoutToStderr};
use crate::{
    args::FinalBenchArgs,
    quality::{baseline::random_pick, contenders},
};
use anyhow::{bail, Context, Result};
use archon_core::reporter;
use archon_core::{
    child::train_child,
    plugins::SearchPath,
    spec::{data, TrainSpec},
    stats,
};
use archon_search as search;
use archon_search::{RunOptions, SearchConfig};
use archon_store::runs::{config_dir_of, id_of, record_new};
use archon_store::Store;
use serde::Serialize;
use std::process::ExitCode;

/// One network trained for one seed.
#[derive(Debug, Clone, Serialize)]
struct Trial {
    /// Which contender: found, largest, random, resnet.
    who: &'static str,
    /// The architecture (NNI JSON; `{}` for the ResNet) and, for the ResNet, its width.
    architecture: serde_json::Value,
    params: u64,
    flops: u64,
    test: f64,
    train_seconds: f64,
    /// Seconds spent choosing it (the search; random search's simulated time).
    choose_seconds: f64,
}

/// A contender's figures over the seeds.
#[derive(Debug, Clone, Serialize)]
struct Summary {
    who: &'static str,
    test_mean: f64,
    test_std: f64,
    params_mean: f64,
    train_seconds_mean: f64,
    seeds: usize,
}

#[derive(Debug, Clone, Serialize)]
struct FinalReport {
    config: String,
    algorithm: String,
    recipe: String,
    trials: Vec<(u64, Vec<Trial>)>,
    summary: Vec<Summary>,
    notes: Vec<String>,
}

/// The contenders, in the order they are printed.
const WHO: [&str; 4] = ["found", "largest", "random", "resnet"];

/// Runs `archon bench final`.
pub fn run(args: &FinalBenchArgs, search_path: &SearchPath, quiet: bool) -> Result<ExitCode> {
    if args.seeds == 0 {
        bail!("--seeds: 0 runs nothing; give at least 1");
    }
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading the search config {}", args.config.display()))?;
    let cfg = SearchConfig::parse(&text, &args.config)?;
    let config_dir = config_dir_of(&args.config)?;
    // Random search draws from the table: its architectures and its time per training.
    let table = match &args.table {
        Some(path) => {
            let (table, entries) = load_matching(&cfg, &args.config, path)?;
            Some((entries, table.seconds_per_training()))
        }
        None => None,
    };
    let mut notes = Vec::new();
    if table.is_none() {
        notes.push("random search: no --table given, not run".to_string());
    }
    let space = cfg.space.builtin.clone().unwrap_or_default();
    // The retraining's space configuration, shaped by its data (the same for every
    // seed and contender).
    let space_cfg = {
        let spec = cfg.retrain_spec(&config_dir, "{}".into())?;
        let mut space_cfg = spec.space_spec.config(search_path)?;
        data::load(&spec.data)?.shape(&mut space_cfg);
        space_cfg
    };
    let mut trials = Vec::new();
    for i in 0..args.seeds {
        let mut seeded = cfg.clone();
        seeded.seed = cfg.seed + i;
        let seed = seeded.seed;
        let name = format!("{}-final", cfg.name.as_deref().unwrap_or("search"));
        let dir = record_new(&args.runs, &name, &with_seed(&text, seed)?, &config_dir)?;
        let store = Store::open(&dir)?;
        say(
            quiet,
            &format!("seed {seed}: search (experiment {})", id_of(&dir)),
        );
        let outcome = {
            let _redirect = StdoutToStderr::new();
            let opts = RunOptions {
                quiet: true,
                ..RunOptions::default()
            };
            search::run(&seeded, &config_dir, &store, search_path, &opts)?
        };
        let train = |who: &'static str, spec: &TrainSpec, choose_seconds: f64| -> Result<Trial> {
            say(quiet, &format!("seed {seed}: training {who}"));
            let _redirect = StdoutToStderr::new();
            let trained = train_child(spec, search_path, true)
                .with_context(|| format!("training the {who} network (seed {seed})"))?;
            Ok(Trial {
                who,
                architecture: serde_json::from_str(&spec.arch).unwrap_or_default(),
                params: trained.params,
                flops: trained.flops,
                test: trained.accuracy,
                train_seconds: trained.seconds,
                choose_seconds,
            })
        };
        let spec_for =
            |arch: &serde_json::Value| seeded.retrain_spec(&config_dir, arch.to_string());
        let found_spec = spec_for(&outcome.architecture)?;
        let mut row = vec![train("found", &found_spec, outcome.search_seconds)?];
        let limit = args.max_params.unwrap_or(row[0].params);
        let (largest, looked) = contenders::largest_within(&space, &space_cfg, limit, seed)?;
        if i == 0 {
            notes.push(format!(
                "largest: the most parameters within {limit} among {looked} architectures of {space} (ties drawn per seed)"
            ));
        }
        row.push(train("largest", &spec_for(&largest.arch)?, 0.0)?);
        if let Some((entries, per_training)) = &table {
            let per_training = *per_training;
            // At least one training, even when the search took less time than one.
            let n = ((outcome.search_seconds / per_training.max(1e-9)).floor() as usize).max(1);
            let picked = &entries[random_pick(entries, n, seed)];
            if i == 0 {
                notes.push(format!(
                    "random: the best by validation of {n} architecture(s) drawn from the table (its trainings at {per_training:.1} s each fill the search's time), trained here"
                ));
            }
            row.push(train(
                "random",
                &spec_for(&picked.arch)?,
                n as f64 * per_training,
            )?);
        }
        let (width, _) = contenders::resnet_near(&space_cfg, row[0].params)?;
        let mut resnet_spec = found_spec.clone();
        resnet_spec.space = "resnet".into();
        resnet_spec.arch = "{}".into();
        resnet_spec.space_spec.options = serde_json::json!({"width": width, "blocks": 3})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut resnet = train("resnet", &resnet_spec, 0.0)?;
        resnet.architecture = serde_json::json!({"resnet": {"width": width, "blocks": 3}});
        row.push(resnet);
        if !quiet && !args.json {
            for t in &row {
                reporter::progress(format!("seed {seed}  {}", trial_line(t)));
            }
        }
        trials.push((seed, row));
    }
    let summary = WHO
        .iter()
        .filter_map(|&who| summarize(who, &trials))
        .collect();
    let recipe = cfg.retrain_recipe()?.to_string();
    let report = FinalReport {
        config: args.config.display().to_string(),
        algorithm: cfg.search.algorithm.clone(),
        recipe,
        trials,
        summary,
        notes,
    };
    if args.json {
        reporter::note(serde_json::to_string_pretty(&report)?);
    } else {
        reporter::note(render(&report).trim_end_matches('\n'));
    }
    Ok(ExitCode::SUCCESS)
}

fn say(quiet: bool, line: &str) {
    if !quiet {
        reporter::progress(line);
    }
}

fn summarize(who: &'static str, trials: &[(u64, Vec<Trial>)]) -> Option<Summary> {
    let mine: Vec<&Trial> = trials
        .iter()
        .flat_map(|(_, row)| row.iter().filter(|t| t.who == who))
        .collect();
    if mine.is_empty() {
        return None;
    }
    let of = |f: &dyn Fn(&Trial) -> f64| mine.iter().map(|t| f(t)).collect::<Vec<f64>>();
    let tests = of(&|t| t.test);
    Some(Summary {
        who,
        test_mean: stats::mean(&tests),
        test_std: stats::std_dev(&tests),
        params_mean: stats::mean(&of(&|t| t.params as f64)),
        train_seconds_mean: stats::mean(&of(&|t| t.train_seconds)),
        seeds: mine.len(),
    })
}

fn trial_line(t: &Trial) -> String {
    format!(
        "{:<8} test {:.4}  {:>8} params  {:>7.2} MFLOPs  trained in {:>6.1} s  chosen in {:>6.1} s  {}",
        t.who,
        t.test,
        t.params,
        t.flops as f64 / 1e6,
        t.train_seconds,
        t.choose_seconds,
        t.architecture
    )
}

fn render(r: &FinalReport) -> String {
    let mut out = format!(
        "{} ({}) against the baselines, each trained by [retrain] ({})\n",
        r.config, r.algorithm, r.recipe
    );
    for (seed, row) in &r.trials {
        for t in row {
            out.push_str(&format!("seed {seed:>3}  {}\n", trial_line(t)));
        }
    }
    out.push_str("network   test (mean ± sd over seeds)   params   training s\n");
    for s in &r.summary {
        out.push_str(&format!(
            "{:<8}  {:.4} ± {:.4} ({} seeds)      {:>8.0}  {:>8.1}\n",
            s.who, s.test_mean, s.test_std, s.seeds, s.params_mean, s.train_seconds_mean
        ));
    }
    if let (Some(found), Some(best_other)) = (
        r.summary.iter().find(|s| s.who == "found"),
        r.summary
            .iter()
            .filter(|s| s.who != "found")
            .max_by(|a, b| a.test_mean.total_cmp(&b.test_mean)),
    ) {
        let gap = found.test_mean - best_other.test_mean;
        let spread = found.test_std.max(best_other.test_std);
        out.push_str(&if found.seeds < 2 {
            format!(
                "the searched network against the best baseline ({}): {:+.2} points, from one seed (no spread to judge by: run --seeds 3)\n",
                best_other.who,
                100.0 * gap
            )
        } else if gap > spread {
            format!(
                "the searched network beats the best baseline ({}) by {:.2} points, more than the seed spread ({:.2})\n",
                best_other.who,
                100.0 * gap,
                100.0 * spread
            )
        } else {
            format!(
                "the searched network does not beat the best baseline ({}) by more than the seed spread: {:+.2} points against a spread of {:.2}\n",
                best_other.who,
                100.0 * gap,
                100.0 * spread
            )
        });
    }
    for note in &r.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}
