//! `archon bench tuners --table T --metric M`: classic tuners compared on a table of
//! measured architectures (trials answered by `trial.table`, so thousands run in
//! seconds): per tuner, the best value found after N trials over S seeds (mean,
//! standard error), its regret to the table's optimum, and random search beside it;
//! `--svg` draws the mean best-so-far curves.

use super::experiment::record_new;
use crate::{
    cli::{BenchTunersArgs, RunsDir},
    experiment::{
        manager,
        store::{Store, TrialStatus},
    },
    ground_truth::{stats, table::Table},
    plugins::SearchPath,
};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::{path::Path, process::ExitCode};

/// One tuner over the seeds.
#[derive(Debug, Serialize)]
struct TunerResult {
    tuner: String,
    /// Best value after N trials, per seed.
    best: Vec<f64>,
    mean: f64,
    /// Standard error of the mean.
    sem: f64,
    /// The table's optimum minus the mean best.
    regret: f64,
    /// Mean best-so-far after 10, 25, 50 and 100 % of the trials.
    curve: Vec<(usize, f64)>,
    /// Trials the table could not answer (missing architectures), over all seeds.
    unanswered: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    table: String,
    metric: String,
    trials: usize,
    seeds: u64,
    optimum: f64,
    tuners: Vec<TunerResult>,
}

/// The experiment config text for one run.
fn config_text(args: &BenchTunersArgs, table: &Path, tuner: &str, seed: u64) -> Result<String> {
    let header = Table::load(table)
        .with_context(|| {
            format!(
                "{}: bench tuners reads the space from a ground-truth table's header",
                table.display()
            )
        })?
        .header;
    let options = toml::Value::try_from(serde_json::Value::Object(header.options.clone()))
        .context("the table's space options")?;
    let mut space = toml::Table::new();
    space.insert("builtin".into(), header.space.clone().into());
    space.insert("options".into(), options);
    let mut trial = toml::Table::new();
    trial.insert("table".into(), table.display().to_string().into());
    trial.insert("metric".into(), args.metric.clone().into());
    let mut tuner_t = toml::Table::new();
    tuner_t.insert("name".into(), tuner.into());
    let mut root = toml::Table::new();
    root.insert("name".into(), format!("bench-{tuner}-{seed}").into());
    root.insert("direction".into(), "maximize".into());
    root.insert("max_trials".into(), (args.trials as i64).into());
    root.insert("concurrency".into(), 1.into());
    root.insert("seed".into(), (seed as i64).into());
    root.insert("space".into(), space.into());
    root.insert("trial".into(), trial.into());
    root.insert("tuner".into(), tuner_t.into());
    Ok(toml::to_string(&root)?)
}

/// A scratch folder, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `archon bench tuners`.
pub fn run(args: &BenchTunersArgs, search_path: &SearchPath) -> Result<ExitCode> {
    if args.trials == 0 || args.seeds == 0 {
        bail!("--trials and --seeds must be at least 1");
    }
    let table = args
        .table
        .canonicalize()
        .with_context(|| format!("--table {}", args.table.display()))?;
    let entries = Table::load(&table)?.entries();
    let optimum = match args.metric.as_str() {
        "test" => entries.iter().map(|e| e.test()).fold(f64::MIN, f64::max),
        "valid" => entries.iter().map(|e| e.valid()).fold(f64::MIN, f64::max),
        other => bail!("--metric {other:?}: a ground-truth table's metrics are valid and test"),
    };
    let scratch =
        Scratch(std::env::temp_dir().join(format!("archon-bench-tuners-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0)?;
    let runs = RunsDir {
        path: scratch.0.clone(),
    };
    let config_dir = std::env::current_dir()?;
    let marks: Vec<usize> = [10, 25, 50, 100]
        .iter()
        .map(|p| (args.trials * p / 100).max(1))
        .collect();
    let mut tuners = Vec::new();
    let mut series = Vec::new();
    for tuner in &args.tuners {
        let mut best = Vec::new();
        let mut curves = vec![Vec::new(); marks.len()];
        let mut unanswered = 0;
        // Per trial index: the sum and count of best-so-far values over seeds.
        let mut full = vec![(0.0, 0usize); args.trials];
        for seed in 0..args.seeds {
            let text = config_text(args, &table, tuner, seed)?;
            let dir = record_new(&runs, &format!("{tuner}-{seed}"), &text, &config_dir)?;
            manager::run_with(&dir, search_path, true)
                .with_context(|| format!("tuner {tuner}, seed {seed}"))?;
            let trials = Store::open(&dir)?.trials()?;
            let mut so_far = f64::NAN;
            let mut by_trial = Vec::with_capacity(trials.len());
            for t in &trials {
                match (t.status, t.final_metric) {
                    (TrialStatus::Succeeded, Some(v)) => {
                        so_far = if so_far.is_nan() { v } else { so_far.max(v) }
                    }
                    _ => unanswered += 1,
                }
                by_trial.push(so_far);
            }
            for (slot, v) in full.iter_mut().zip(&by_trial) {
                if !v.is_nan() {
                    slot.0 += v;
                    slot.1 += 1;
                }
            }
            for (k, &m) in marks.iter().enumerate() {
                curves[k].push(by_trial.get(m - 1).copied().unwrap_or(so_far));
            }
            best.push(so_far);
            let _ = std::fs::remove_dir_all(&dir);
        }
        let mean = stats::mean(&best);
        series.push((
            tuner.clone(),
            full.iter()
                .enumerate()
                .filter(|(_, (_, n))| *n > 0)
                .map(|(i, (sum, n))| ((i + 1) as f64, sum / *n as f64))
                .collect::<Vec<_>>(),
        ));
        tuners.push(TunerResult {
            tuner: tuner.clone(),
            sem: stats::std_dev(&best) / (best.len() as f64).sqrt(),
            regret: optimum - mean,
            curve: marks
                .iter()
                .zip(&curves)
                .map(|(&m, c)| (m, stats::mean(c)))
                .collect(),
            mean,
            best,
            unanswered,
        });
    }
    if let Some(svg) = &args.svg {
        let chart = crate::view::report::line_chart(
            &format!(
                "best {} so far (mean of {} seeds; optimum {optimum:.4})",
                args.metric, args.seeds
            ),
            "trials",
            &series,
        );
        std::fs::write(svg, chart).with_context(|| format!("writing {}", svg.display()))?;
    }
    let report = Report {
        table: args.table.display().to_string(),
        metric: args.metric.clone(),
        trials: args.trials,
        seeds: args.seeds,
        optimum,
        tuners,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} ({} architectures, optimum {:.4} by {}): {} trials × {} seeds per tuner",
        report.table,
        entries.len(),
        optimum,
        report.metric,
        report.trials,
        report.seeds
    );
    let heads: Vec<String> = marks.iter().map(|m| format!("@{m:<6}")).collect();
    println!(
        "tuner        best (mean ± s.e.)   regret   {}  unanswered",
        heads.join(" ")
    );
    for t in &report.tuners {
        let curve: Vec<String> = t.curve.iter().map(|(_, v)| format!("{v:.4} ")).collect();
        println!(
            "{:<12} {:.4} ± {:.4}      {:.4}   {}  {}",
            t.tuner,
            t.mean,
            t.sem,
            t.regret,
            curve.join(" "),
            t.unanswered
        );
    }
    Ok(ExitCode::SUCCESS)
}
