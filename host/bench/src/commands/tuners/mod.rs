//! `archon bench tuners --table T --metric M`: classic tuners compared on a table of
//! measured architectures (trials answered by `trial.table`, so thousands run in
//! seconds) or a test function (`fn:NAME`, answered by `trial.function`): per tuner,
//! the best value found after N trials over S seeds (mean, standard error), its regret
//! to the optimum, and random search beside it; `--svg` draws the mean best-so-far
//! curves. With several problems a summary gives each tuner's gain over random search
//! in standard errors and its rank on each (`summary`).
//!
//! Multi-fidelity tuners (those with `min_budget`/`max_budget` options: asha,
//! hyperband) get the table's epochs as their budgets (a trial at budget b is answered
//! from `valid@b`, the table's learning curve) and run at equal cost: the sum of their
//! trials' budgets up to N × the table's epochs; only full-budget results count as
//! found. For every tuner the cost (epochs) at which its best reached random search's
//! N-trial result is reported.

mod problem;
mod summary;

use crate::args::BenchTunersArgs;
use anyhow::{bail, Context, Result};
use archon_core::reporter;
use archon_core::{args::RunsDir, plugins::SearchPath, stats};
use archon_experiment::manager;
use archon_experiment::{config::Direction, pareto};
use archon_store::runs::record_new;
use archon_store::{Store, TrialStatus};
use pareto::Objective;
use problem::Problem;
use serde::Serialize;
use std::process::ExitCode;

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
    /// Mean best-so-far after 10, 25, 50 and 100 % of the trials (or their cost, for
    /// multi-fidelity tuners).
    curve: Vec<(usize, f64)>,
    /// Trials the table could not answer (missing architectures), over all seeds.
    unanswered: usize,
    /// Whether the tuner gave budgets (run at equal cost instead of equal trials).
    multi_fidelity: bool,
    /// Mean cost (epochs) of a run.
    cost: f64,
    /// Per seed: the cost (epochs) at which the best found reached random search's
    /// mean N-trial result (`None`: not within the run).
    cost_to_random: Vec<Option<f64>>,
    /// The cost (epochs, in steps of one full-budget training) at which the mean over
    /// seeds of the best found reached random search's mean N-trial result (`None`:
    /// not within the run): the tuner's expected cost to random's result.
    mean_cost_to_random: Option<f64>,
    /// With `--objectives`: per seed, the hypervolume of the run's Pareto front, each
    /// objective scaled so that the table's best is 0 and its worst 1 (1 is the whole
    /// unit box: one architecture best in everything).
    hypervolume: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Report {
    table: String,
    /// What the problem is (the text report's first line).
    #[serde(skip)]
    description: String,
    metric: String,
    trials: usize,
    seeds: u64,
    optimum: f64,
    /// The cost of one full trial (a table's epochs; 1 for a function).
    #[serde(skip)]
    full: f64,
    /// What a cost is counted in: "epochs" (tables) or "trials" (functions).
    #[serde(skip)]
    unit: &'static str,
    tuners: Vec<TunerResult>,
}

/// The experiment config text for one run: `max_trials` trials, the tuner with
/// `options`.
fn config_text(
    args: &BenchTunersArgs,
    problem: &Problem,
    tuner: &str,
    tuner_options: &toml::Table,
    max_trials: usize,
    seed: u64,
    objectives: &[Objective],
) -> Result<String> {
    let (space, trial) = problem.sections(&args.metric)?;
    let mut tuner_t = toml::Table::new();
    let (name, proxy) = split_tuner(tuner);
    tuner_t.insert("name".into(), name.into());
    tuner_t.insert("options".into(), tuner_options.clone().into());
    if let Some(proxy) = proxy {
        let mut pre = toml::Table::new();
        pre.insert("proxy".into(), proxy.into());
        pre.insert("sample".into(), (args.prefilter_sample as i64).into());
        pre.insert("keep".into(), (args.prefilter_keep as i64).into());
        tuner_t.insert("prefilter".into(), pre.into());
    }
    let mut root = toml::Table::new();
    if !objectives.is_empty() {
        let list: Vec<toml::Value> = objectives
            .iter()
            .map(|o| {
                let mut t = toml::Table::new();
                t.insert("metric".into(), o.metric.clone().into());
                t.insert("direction".into(), o.direction.as_str().into());
                t.into()
            })
            .collect();
        root.insert("objectives".into(), list.into());
    }
    root.insert(
        "name".into(),
        format!("bench-{}-{seed}", run_name(tuner)).into(),
    );
    root.insert("direction".into(), "maximize".into());
    root.insert("max_trials".into(), (max_trials as i64).into());
    root.insert("concurrency".into(), 1.into());
    root.insert("seed".into(), (seed as i64).into());
    root.insert("space".into(), space.into());
    root.insert("trial".into(), trial.into());
    root.insert("tuner".into(), tuner_t.into());
    Ok(toml::to_string(&root)?)
}

/// `NAME@PROXY` → (NAME, Some(PROXY)); a plain name → (NAME, None).
fn split_tuner(tuner: &str) -> (&str, Option<&str>) {
    match tuner.split_once('@') {
        Some((name, proxy)) => (name, Some(proxy)),
        None => (tuner, None),
    }
}

/// A `--tuners` entry as part of a folder or experiment name.
fn run_name(tuner: &str) -> String {
    tuner.replace('@', "-")
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
    let problems: Vec<Problem> = args
        .table
        .iter()
        .map(|t| Problem::parse(t))
        .collect::<Result<_>>()?;
    let objectives = parse_objectives(&args.objectives)?;
    if let Some(f) = problems
        .iter()
        .find(|p| matches!(p, Problem::Function(_)) && !objectives.is_empty())
    {
        bail!(
            "--objectives: {} is a test function with one value; objectives need ground-truth tables",
            f.label()
        );
    }
    if problems.len() > 1 && args.svg.is_some() {
        bail!("--svg draws one problem's curves: give one --table with it");
    }
    let mut reports = Vec::new();
    for problem in &problems {
        let report = run_problem(args, problem, &objectives, search_path)?;
        if !args.json {
            print_report(&report, &objectives, args);
        }
        reports.push(report);
    }
    let summary = summary::Summary::of(&reports);
    if args.json {
        let json = if reports.len() == 1 {
            serde_json::to_string_pretty(&reports[0])?
        } else {
            serde_json::to_string_pretty(&serde_json::json!({
                "problems": reports,
                "summary": summary,
            }))?
        };
        reporter::note(json);
    } else if reports.len() > 1 {
        summary.print(args.trials, args.seeds);
    }
    Ok(ExitCode::SUCCESS)
}

/// One problem's runs: every tuner over every seed.
fn run_problem(
    args: &BenchTunersArgs,
    problem: &Problem,
    objectives: &[Objective],
    search_path: &SearchPath,
) -> Result<Report> {
    let full = problem.full_budget();
    let entries = problem.entries();
    // Each objective's best and worst over the table, for the normalised hypervolume.
    let column = |e: &crate::ground_truth::table::Entry, metric: &str| match metric {
        "valid" => e.valid(),
        "test" => e.test(),
        "params" => e.params as f64,
        _ => e.flops as f64,
    };
    let bounds: Vec<(f64, f64)> = objectives
        .iter()
        .map(|o| {
            let min: Vec<f64> = entries
                .iter()
                .map(|e| {
                    pareto::as_minimization(std::slice::from_ref(o), &[column(e, &o.metric)])[0]
                })
                .collect();
            (
                min.iter().copied().fold(f64::INFINITY, f64::min),
                min.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        })
        .collect();
    let optimum = problem.optimum(&args.metric)?;
    let scratch =
        Scratch(std::env::temp_dir().join(format!("archon-bench-tuners-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0)?;
    let runs = RunsDir {
        path: scratch.0.clone(),
    };
    let config_dir = std::env::current_dir()?;
    let marks = marks(args.trials);
    let mut tuners = Vec::new();
    let mut series = Vec::new();
    let budget_cap = args.trials as f64 * full;
    // Random search's mean best after N trials, once measured (the cost target).
    let mut random_mean: Option<f64> = None;
    for tuner in &args.tuners {
        let name = split_tuner(tuner).0;
        let plugin = archon_core::plugins::resolve(name, search_path)?;
        let has = |key: &str| {
            plugin
                .options
                .as_ref()
                .is_some_and(|o| o.iter().any(|d| d.key == key))
        };
        let multi_fidelity = has("min_budget") && has("max_budget");
        if multi_fidelity && matches!(problem, Problem::Function(_)) {
            bail!(
                "tuner {tuner}: multi-fidelity tuners need budgets, and {} has none (use a ground-truth table)",
                problem.label()
            );
        }
        let mut options = toml::Table::new();
        for item in &args.options {
            let (key, value) = item
                .split_once('=')
                .and_then(|(k, v)| k.split_once('.').map(|(t, k)| ((t, k), v)))
                .map(|((t, k), v)| ((t.trim(), k.trim()), v.trim()))
                .with_context(|| format!("--option {item:?}: write TUNER.KEY=VALUE"))?;
            if key.0 == name {
                let value = value
                    .parse::<toml::Value>()
                    .unwrap_or_else(|_| toml::Value::String(value.to_string()));
                options.insert(key.1.to_string(), value);
            }
        }
        let max_trials = if multi_fidelity {
            options.entry("min_budget").or_insert(1.0.into());
            options.entry("max_budget").or_insert(full.into());
            args.trials * (full.ceil() as usize).max(1)
        } else {
            args.trials
        };
        let mut best = Vec::new();
        let mut curves = vec![Vec::new(); marks.len()];
        let mut unanswered = 0;
        let mut costs = Vec::new();
        let mut cost_to_random = Vec::new();
        let mut hypervolumes = Vec::new();
        // Per trial's worth of cost (N at the table's budget): the sum and count of
        // best-so-far values over seeds.
        let mut sums = vec![(0.0, 0usize); args.trials];
        for seed in 0..args.seeds {
            let text = config_text(args, problem, tuner, &options, max_trials, seed, objectives)?;
            let dir = record_new(
                &runs,
                &format!("{}-{seed}", run_name(tuner)),
                &text,
                &config_dir,
            )?;
            manager::run_with(&dir, search_path, true)
                .with_context(|| format!("tuner {tuner}, seed {seed}"))?;
            let trials = Store::open(&dir)?.trials()?;
            let mut so_far = f64::NAN;
            // (cost so far, best so far) after each trial.
            let mut by_trial: Vec<(f64, f64)> = Vec::with_capacity(trials.len());
            let mut cost = 0.0;
            let mut reached = None;
            let budget_of: std::collections::HashMap<u64, f64> = trials
                .iter()
                .map(|t| (t.id, t.budget().unwrap_or(full)))
                .collect();
            for t in &trials {
                let budget = t.budget().unwrap_or(full);
                // A resumed promotion pays only for the epochs beyond its origin's.
                let paid = match t.info_json()["promoted_from"].as_u64() {
                    Some(from) if args.promotions == "resume" => {
                        budget - budget_of.get(&from).copied().unwrap_or(0.0)
                    }
                    _ => budget,
                };
                if cost + paid > budget_cap + 1e-9 {
                    break; // Equal cost: N trials at the table's budget.
                }
                cost += paid;
                match (t.status, t.final_metric) {
                    (TrialStatus::Succeeded, Some(v)) if budget >= full => {
                        so_far = if so_far.is_nan() { v } else { so_far.max(v) }
                    }
                    (TrialStatus::Succeeded, Some(_)) => {}
                    _ => unanswered += 1,
                }
                if reached.is_none() && random_mean.is_some_and(|r| so_far >= r) {
                    reached = Some(cost);
                }
                by_trial.push((cost, so_far));
            }
            costs.push(cost);
            cost_to_random.push(reached);
            if !objectives.is_empty() {
                hypervolumes.push(front_hypervolume(
                    &Store::open(&dir)?,
                    objectives,
                    &bounds,
                    budget_cap,
                    full,
                )?);
            }
            // The best found within the cost of `n` trials at the table's budget.
            let within = |n: usize| {
                by_trial
                    .iter()
                    .take_while(|(c, _)| *c <= n as f64 * full + 1e-9)
                    .last()
                    .map_or(f64::NAN, |(_, v)| *v)
            };
            for (n, slot) in sums.iter_mut().enumerate() {
                let v = within(n + 1);
                if !v.is_nan() {
                    slot.0 += v;
                    slot.1 += 1;
                }
            }
            for (k, &m) in marks.iter().enumerate() {
                curves[k].push(within(m));
            }
            best.push(so_far);
            let _ = std::fs::remove_dir_all(&dir);
        }
        let mean = stats::mean(&best);
        // Where the mean best-so-far over every seed first reaches random's mean.
        let mean_cost_to_random = random_mean.and_then(|r| {
            sums.iter()
                .position(|&(sum, n)| n as u64 == args.seeds && sum / n as f64 >= r)
                .map(|i| (i + 1) as f64 * full)
        });
        if tuner == "random" && random_mean.is_none() {
            random_mean = Some(mean);
            // Random's own cost to reach its mean: from its curves, after the fact.
            cost_to_random = vec![None; best.len()];
        }
        series.push((
            tuner.clone(),
            sums.iter()
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
            multi_fidelity,
            cost: stats::mean(&costs),
            cost_to_random,
            mean_cost_to_random,
            hypervolume: hypervolumes,
        });
    }
    if let Some(svg) = &args.svg {
        let chart = archon_view::report::line_chart(
            &format!(
                "best {} so far (mean of {} seeds; optimum {optimum:.4})",
                args.metric, args.seeds
            ),
            "trials (multi-fidelity: their cost in full-budget trainings)",
            &series,
        );
        std::fs::write(svg, chart).with_context(|| format!("writing {}", svg.display()))?;
    }
    Ok(Report {
        table: problem.label(),
        description: problem.describe(&args.metric, optimum),
        metric: args.metric.clone(),
        trials: args.trials,
        seeds: args.seeds,
        optimum,
        full,
        unit: problem.cost_unit(),
        tuners,
    })
}

/// Mean best-so-far after 10, 25, 50 and 100 % of `trials`.
fn marks(trials: usize) -> Vec<usize> {
    [10, 25, 50, 100]
        .iter()
        .map(|p| (trials * p / 100).max(1))
        .collect()
}

/// The width of the tuner-name column: the longest name, at least 12.
fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(0).max(12)
}

/// One problem's table of tuners.
fn print_report(report: &Report, objectives: &[Objective], args: &BenchTunersArgs) {
    let (full, unit) = (report.full, report.unit);
    let budget_cap = report.trials as f64 * full;
    reporter::note(format!(
        "{}: {} trials × {} seeds per tuner",
        report.description, report.trials, report.seeds
    ));
    let heads: Vec<String> = marks(report.trials)
        .iter()
        .map(|m| format!("@{m:<6}"))
        .collect();
    let w = name_width(report.tuners.iter().map(|t| t.tuner.as_str()));
    reporter::note(format!(
        "{:<w$} best (mean ± s.e.)   regret   {}  unanswered  cost to random's result",
        "tuner",
        heads.join(" ")
    ));
    for t in &report.tuners {
        let curve: Vec<String> = t.curve.iter().map(|(_, v)| format!("{v:.4} ")).collect();
        let reached = t.cost_to_random.iter().flatten().count();
        let to_random = match t.mean_cost_to_random {
            _ if t.tuner == "random" => "-".to_string(),
            Some(c) => format!(
                "{c:.0} of {budget_cap:.0} {unit} ({reached} of {} seeds reach it)",
                t.cost_to_random.len()
            ),
            None => format!(
                "not within {budget_cap:.0} {unit} ({reached} of {} seeds reach it)",
                t.cost_to_random.len()
            ),
        };
        reporter::note(format!(
            "{:<w$} {:.4} ± {:.4}      {:.4}   {}  {:<10}  {}",
            t.tuner,
            t.mean,
            t.sem,
            t.regret,
            curve.join(" "),
            t.unanswered,
            to_random
        ));
    }
    if unit == "epochs" {
        reporter::note(format!(
            "(multi-fidelity tuners run at equal cost: {budget_cap:.0} epochs, only results at the full {full} epochs count;\n cost to random's result: where the mean over seeds of the best so far first reaches random's mean after {} trials)",
            args.trials
        ));
    }
    if !objectives.is_empty() {
        let names: Vec<String> = objectives
            .iter()
            .map(|o| format!("{} {}", o.metric, o.direction.as_str()))
            .collect();
        reporter::note(format!(
            "Pareto fronts ({}): normalised hypervolume (mean ± s.e.; table best 0, worst 1)",
            names.join(", ")
        ));
        for t in &report.tuners {
            reporter::note(format!(
                "{:<w$} {:.4} ± {:.4}",
                t.tuner,
                stats::mean(&t.hypervolume),
                stats::std_dev(&t.hypervolume) / (t.hypervolume.len() as f64).sqrt()
            ));
        }
    }
}

/// `--objectives valid:max,params:min` as objectives over the table's columns.
fn parse_objectives(list: &[String]) -> Result<Vec<Objective>> {
    let out: Vec<Objective> = list
        .iter()
        .map(|item| {
            let (metric, way) = item.split_once(':').unwrap_or((item, ""));
            if !["valid", "test", "params", "flops"].contains(&metric) {
                bail!("--objectives {item:?}: a ground-truth table's columns are valid, test, params and flops");
            }
            let direction = match way {
                "max" => Direction::Maximize,
                "min" => Direction::Minimize,
                _ => bail!("--objectives {item:?}: write METRIC:max or METRIC:min"),
            };
            Ok(Objective {
                metric: metric.to_string(),
                direction,
            })
        })
        .collect::<Result<_>>()?;
    if out.len() == 1 {
        bail!("--objectives: give two or more (one objective is --metric)");
    }
    Ok(out)
}

/// The normalised hypervolume of the front of a run's full-budget trials within the
/// cost cap: each objective scaled to [0, 1] by the table's best and worst, reference 1.
fn front_hypervolume(
    store: &Store,
    objectives: &[Objective],
    bounds: &[(f64, f64)],
    cap: f64,
    full: f64,
) -> Result<f64> {
    let mut cost = 0.0;
    let mut points = Vec::new();
    for t in store.trials()? {
        let budget = t.budget().unwrap_or(full);
        if cost + budget > cap + 1e-9 {
            break;
        }
        cost += budget;
        let (TrialStatus::Succeeded, Some(value), true) =
            (t.status, t.final_metric, budget >= full)
        else {
            continue;
        };
        let raw = store.final_metric_raw(t.id)?.unwrap_or_default();
        if let Ok(v) = pareto::values(objectives, &raw, value) {
            let min = pareto::as_minimization(objectives, &v);
            points.push(
                min.iter()
                    .zip(bounds)
                    .map(|(x, (lo, hi))| if hi > lo { (x - lo) / (hi - lo) } else { 0.0 })
                    .collect::<Vec<f64>>(),
            );
        }
    }
    let front: Vec<Vec<f64>> = pareto::front(&points)
        .into_iter()
        .map(|i| points[i].clone())
        .collect();
    Ok(pareto::hypervolume(&front, &vec![1.0; objectives.len()]))
}
