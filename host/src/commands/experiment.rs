//! `archon experiment create|run|resume|list|show|stop|export|logs`.

use super::interrupted::interrupted_hint;
use crate::cli::ExperimentCommand;
use anyhow::{bail, Context, Result};
use archon_core::{
    args::RunsDir,
    plugins::{resolve, SearchPath},
    reporter,
};
use archon_experiment::service::TrainingService;
use archon_experiment::{
    config::{resolve_relative, ExperimentConfig},
    manager, nni_config,
    space::search_space_json,
};
use archon_store::runs::{config_dir_of, experiment_dir, id_of, record_new};
use archon_store::{ExperimentStatus, Store, TrialRecord, TrialStatus};
use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

/// Runs an `experiment` subcommand.
pub fn run(cmd: ExperimentCommand, search_path: &SearchPath) -> Result<ExitCode> {
    match cmd {
        ExperimentCommand::Create {
            config,
            config_flag,
            runs,
        } => {
            let config = either(config, config_flag)?;
            let dir = create(&config, &runs, search_path)?;
            println!("created experiment {}", id_of(&dir));
        }
        ExperimentCommand::Run {
            config,
            config_flag,
            runs,
        } => {
            let config = either(config, config_flag)?;
            if is_search_config(&config) {
                return super::search::run(
                    &crate::cli::SearchArgs {
                        config,
                        retrain: false,
                        export: None,
                        device: None,
                        epochs: None,
                        budget: None,
                        runs,
                    },
                    search_path,
                );
            }
            let dir = create(&config, &runs, search_path)?;
            println!("experiment {} ({})", id_of(&dir), dir.display());
            finish(&dir, manager::run(&dir, search_path)?)?;
        }
        ExperimentCommand::Resume { id, runs } => {
            let dir = experiment_dir(&runs, &id)?;
            let store = Store::open_read_only(&dir)?;
            if store.is_one_shot()? {
                return super::search::resume(&dir, search_path);
            }
            if store.status()? == Some(ExperimentStatus::Done) {
                finished(&dir, &store)?;
                return Ok(ExitCode::SUCCESS);
            }
            drop(store);
            finish(&dir, manager::run(&dir, search_path)?)?;
        }
        ExperimentCommand::List { runs } => list(&runs)?,
        ExperimentCommand::Show { id, runs } => show(&experiment_dir(&runs, &id)?)?,
        ExperimentCommand::Stop { id, runs } => stop(&experiment_dir(&runs, &id)?)?,
        ExperimentCommand::Export {
            id,
            nni_type: Some(nni_type),
            filename,
            intermediate,
            runs,
            ..
        } => export_nni(
            &experiment_dir(&runs, &id)?,
            &nni_type,
            filename.as_deref(),
            intermediate,
        )?,
        ExperimentCommand::Export {
            id,
            top,
            format,
            runs,
            ..
        } => export(&experiment_dir(&runs, &id)?, top, &format)?,
        ExperimentCommand::Logs { id, trial, runs } => logs(&experiment_dir(&runs, &id)?, trial)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The config given as an argument or with `--config` (clap requires one).
fn either(config: Option<PathBuf>, flag: Option<PathBuf>) -> Result<PathBuf> {
    config.or(flag).context("give the experiment config")
}

/// Whether `config` is a one-shot search config (`archon search` runs it).
fn is_search_config(config: &Path) -> bool {
    std::fs::read_to_string(config).is_ok_and(|t| archon_search::SearchConfig::is_search(&t))
}

/// Checks a config thoroughly (the tuner loads, the space builds) and records it.
fn create(config: &Path, runs: &RunsDir, search_path: &SearchPath) -> Result<PathBuf> {
    let mut text = std::fs::read_to_string(config)
        .with_context(|| format!("reading the experiment config {}", config.display()))?;
    if nni_config::is_nni_config(config) {
        let converted = nni_config::convert(&text, config)?;
        for line in &converted.ignored {
            reporter::warning(format!("{}: {line}", config.display()));
        }
        text = converted.toml;
    }
    let cfg = ExperimentConfig::parse(&text, config)?;
    archon_experiment::config::check_runnable(&cfg)
        .with_context(|| format!("{}", config.display()))?;
    let config_dir = config_dir_of(config)?;
    if let Some(dir) = &cfg.trial.directory {
        let dir = resolve_relative(&config_dir, dir);
        if !dir.is_dir() {
            bail!(
                "{}: trial.directory: {} is not a folder",
                config.display(),
                dir.display()
            );
        }
    }
    search_space_json(&cfg, &config_dir)
        .with_context(|| format!("{}: [space]", config.display()))?;
    if cfg.trial.function.is_some() {
        manager::trial_function(&cfg, &config_dir)
            .with_context(|| format!("{}", config.display()))?;
    }
    if cfg.trial.table.is_some() {
        manager::trial_table(&cfg, &config_dir).with_context(|| format!("{}", config.display()))?;
    }
    resolve(&cfg.tuner.name, search_path)
        .with_context(|| format!("{}: tuner.name", config.display()))?;
    manager::check_algorithms(&cfg, &config_dir, search_path)
        .with_context(|| format!("{}", config.display()))?;
    record_new(
        runs,
        cfg.name.as_deref().unwrap_or("exp"),
        &text,
        &config_dir,
    )
}

fn finish(dir: &Path, summary: manager::Summary) -> Result<()> {
    let (_, succeeded, failed) = totals(&Store::open_read_only(dir)?)?;
    let this_run = if (succeeded, failed) == (summary.succeeded, summary.failed) {
        String::new()
    } else {
        format!(
            " in all (this run: {} succeeded, {} failed)",
            summary.succeeded, summary.failed
        )
    };
    println!(
        "experiment {}: {succeeded} succeeded, {failed} failed{this_run}",
        id_of(dir)
    );
    if summary.over_limits > 0 {
        println!(
            "{} proposals over the limits were not run",
            summary.over_limits
        );
    }
    if summary.started > 0 {
        println!(
            "{} trials in {:.1} s ({:.0} trials/min); manager CPU {:.1} ms per trial",
            summary.started,
            summary.seconds,
            summary.started as f64 * 60.0 / summary.seconds.max(1e-9),
            summary.manager_cpu * 1000.0 / summary.started as f64
        );
    }
    let store = Store::open_read_only(dir)?;
    let cfg = ExperimentConfig::parse(&store.config_text()?, Path::new("experiment.toml"))?;
    if cfg.objectives.len() > 1 {
        let front = archon_experiment::pareto::experiment_front(&store, &cfg.objectives)?;
        if let Some((id, field)) = front.missing.first() {
            eprintln!(
                "warning: {} succeeded trials reported no value for an objective (e.g. trial {id} has no {field:?}); they are left out of the Pareto front",
                front.missing.len()
            );
        }
    }
    if let Some(best) = best_trials(&store, 1)?.first() {
        println!(
            "best: trial {} with {}: {}",
            best.id,
            archon_core::number::metric(best.final_metric.unwrap_or(f64::NAN)),
            best.parameters
        );
    }
    Ok(())
}

/// The store's trials: all, succeeded, failed.
fn totals(store: &Store) -> Result<(usize, usize, usize)> {
    let trials = store.trials()?;
    let count = |s| trials.iter().filter(|t| t.status == s).count();
    Ok((
        trials.len(),
        count(TrialStatus::Succeeded),
        count(TrialStatus::Failed),
    ))
}

/// `experiment resume` of a finished experiment: says so and what it holds.
fn finished(dir: &Path, store: &Store) -> Result<()> {
    let (trials, succeeded, failed) = totals(store)?;
    println!(
        "experiment {} is finished (DONE): {trials} trials, {succeeded} succeeded, {failed} failed; \
         nothing is left to resume (for more trials, create a new experiment with a larger \
         max_trials)",
        id_of(dir)
    );
    Ok(())
}

fn direction(store: &Store) -> Result<archon_experiment::config::Direction> {
    let text = store.config_text()?;
    Ok(ExperimentConfig::parse(&text, Path::new("experiment.toml"))?.direction)
}

/// The top `k` succeeded trials, best first.
fn best_trials(store: &Store, k: usize) -> Result<Vec<TrialRecord>> {
    let dir = direction(store)?;
    let mut done: Vec<TrialRecord> = store
        .trials()?
        .into_iter()
        .filter(|t| t.status == TrialStatus::Succeeded && t.final_metric.is_some())
        .collect();
    done.sort_by(|a, b| {
        let (x, y) = (
            a.final_metric.unwrap_or(f64::NAN),
            b.final_metric.unwrap_or(f64::NAN),
        );
        if dir.better(x, y) {
            std::cmp::Ordering::Less
        } else if dir.better(y, x) {
            std::cmp::Ordering::Greater
        } else {
            a.id.cmp(&b.id)
        }
    });
    done.truncate(k);
    Ok(done)
}

/// Prints every experiment in `runs`; one that cannot be read is marked with the
/// reason instead of hiding the others.
fn list(runs: &RunsDir) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(&runs.path) else {
        println!("no experiments in {}", runs.path.display());
        return Ok(());
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("experiment.db").is_file())
        .collect();
    dirs.sort();
    println!(
        "{:<28} {:<9} {:>6} {:>9} {:>7}  best",
        "ID", "STATUS", "TRIALS", "SUCCEEDED", "FAILED"
    );
    for dir in dirs {
        match list_line(&dir) {
            Ok(line) => println!("{line}"),
            Err(e) => println!("{:<28} UNREADABLE  {e:#}", id_of(&dir)),
        }
    }
    Ok(())
}

/// The `list` line of the experiment in `dir` (its store opened read-only).
fn list_line(dir: &Path) -> Result<String> {
    let store = Store::open_read_only(dir)?;
    if store.is_one_shot()? {
        return super::search::list_line(dir, &store);
    }
    let trials = store.trials()?;
    let count = |s| trials.iter().filter(|t| t.status == s).count();
    let best = best_trials(&store, 1)?
        .first()
        .and_then(|t| t.final_metric)
        .map(archon_core::number::metric)
        .unwrap_or_else(|| "-".into());
    Ok(format!(
        "{:<28} {:<9} {:>6} {:>9} {:>7}  {best}",
        id_of(dir),
        store.status_text()?,
        trials.len(),
        count(TrialStatus::Succeeded),
        count(TrialStatus::Failed)
    ))
}

fn show(dir: &Path) -> Result<()> {
    let store = Store::open_read_only(dir)?;
    if store.is_one_shot()? {
        return super::search::show(dir, &store);
    }
    println!(
        "experiment {} ({}), status {}",
        id_of(dir),
        dir.display(),
        store.status_text()?
    );
    interrupted_hint(dir, &store)?;
    let trials = store.trials()?;
    // Multi-fidelity tuners give budgets and promotions, the proxy pre-filter its
    // picks' ranks: each shown when any trial has one.
    let fidelity = trials.iter().any(|t| t.budget().is_some());
    let prefiltered = trials
        .iter()
        .any(|t| t.info_json().get("prefilter").is_some());
    let mut extra = String::new();
    if fidelity {
        extra += &format!("{:>8} {:>9}  ", "BUDGET", "PROMOTED");
    }
    if prefiltered {
        extra += &format!("{:<16}  ", "PRE-FILTER");
    }
    println!(
        "{:>5}  {:<13} {:>8} {:>8}  {extra}REASON",
        "TRIAL", "STATUS", "METRIC", "ATTEMPTS"
    );
    let cfg = ExperimentConfig::parse(&store.config_text()?, Path::new("experiment.toml"))?;
    if !cfg.objectives.is_empty() {
        print_front(&archon_experiment::pareto::experiment_front(
            &store,
            &cfg.objectives,
        )?);
    }
    for t in trials {
        let info = t.info_json();
        let mut extra = String::new();
        if fidelity {
            extra += &format!(
                "{:>8} {:>9}  ",
                t.budget()
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into()),
                info["promoted_from"]
                    .as_u64()
                    .map(|f| format!("from {f}"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        if prefiltered {
            let pick = &info["prefilter"];
            let shown = match (pick["proxy"].as_str(), pick["rank"].as_u64()) {
                (Some(proxy), Some(rank)) => format!("{proxy} #{}", rank + 1),
                _ => "-".into(),
            };
            extra += &format!("{shown:<16}  ");
        }
        println!(
            "{:>5}  {:<13} {:>8} {:>8}  {extra}{}",
            t.id,
            t.status.as_str(),
            t.final_metric
                .map(archon_core::number::metric)
                .unwrap_or_else(|| "-".into()),
            t.attempts,
            t.reason.unwrap_or_default()
        );
    }
    Ok(())
}

/// Prints a Pareto front: its trials with their objective values and its hypervolume.
fn print_front(front: &archon_experiment::pareto::Front) {
    let names: Vec<String> = front
        .objectives
        .iter()
        .map(|o| format!("{} ({})", o.metric, o.direction.as_str()))
        .collect();
    if front.trials.is_empty() {
        println!(
            "Pareto front: none of {} succeeded trials reported every objective ({})",
            front.considered + front.missing.len(),
            names.join(", ")
        );
    } else {
        println!(
        "Pareto front: {} of {} trials ({}); hypervolume {:.6} up to the worst values seen {:?}",
        front.trials.len(),
        front.considered,
        names.join(", "),
        front.hypervolume,
        front.reference
    );
    }
    for (id, v) in &front.trials {
        let shown: Vec<String> = v.iter().map(|x| format!("{x:.6}")).collect();
        println!("  trial {id:>5}: {}", shown.join("  "));
    }
    if let Some((id, field)) = front.missing.first() {
        println!(
            "  ({} succeeded trials lack an objective, e.g. trial {id} has no {field:?})",
            front.missing.len()
        );
    }
}

fn stop(dir: &Path) -> Result<()> {
    let store = Store::open(dir)?;
    if store.status()? != Some(ExperimentStatus::Running) {
        bail!("experiment {} is not running", id_of(dir));
    }
    let pid: i32 = store
        .manager_pid()?
        .context("the experiment has no manager process recorded")?;
    // SAFETY: kill(2) with a pid read from the store; no memory is involved.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        let cfg = ExperimentConfig::parse(&store.config_text()?, Path::new("experiment.toml"))?;
        if cfg.training_service.kind == "slurm" {
            // No manager to stop its jobs: cancel them here.
            let handles: Vec<String> = store
                .trials()?
                .iter()
                .filter(|t| t.status == TrialStatus::Running)
                .filter_map(|t| {
                    store
                        .meta(&format!("handle:{}:{}", t.id, t.attempts))
                        .ok()
                        .flatten()
                })
                .collect();
            archon_experiment::service::slurm::SlurmService::new(
                &cfg.training_service,
                &id_of(dir),
            )
            .cancel(&handles);
            store.set_status(ExperimentStatus::Stopped)?;
            println!(
                "the manager (pid {pid}) is not running; cancelled {} Slurm job(s) of experiment {}",
                handles.len(),
                id_of(dir)
            );
            return Ok(());
        }
        bail!("the manager (pid {pid}) is not running; `archon experiment resume {}` continues the experiment", id_of(dir));
    }
    println!(
        "asked experiment {} (manager pid {pid}) to stop",
        id_of(dir)
    );
    Ok(())
}

fn export(dir: &Path, top: usize, format: &str) -> Result<()> {
    if top == 0 {
        bail!("--top 0 exports nothing; give at least 1");
    }
    let store = Store::open_read_only(dir)?;
    if store.is_one_shot()? {
        let arch = store.meta("architecture")?.with_context(|| {
            format!(
                "one-shot experiment {} has not exported an architecture yet",
                id_of(dir)
            )
        })?;
        println!("{arch}");
        return Ok(());
    }
    let cfg = ExperimentConfig::parse(&store.config_text()?, Path::new("experiment.toml"))?;
    if !cfg.objectives.is_empty() {
        // Several objectives: the export is the Pareto front.
        let front = archon_experiment::pareto::experiment_front(&store, &cfg.objectives)?;
        let params: std::collections::HashMap<u64, String> = store
            .trials()?
            .into_iter()
            .map(|t| (t.id, t.parameters))
            .collect();
        match format {
            "json" => {
                let items: Vec<serde_json::Value> = front
                    .trials
                    .iter()
                    .map(|(id, v)| {
                        let objectives: serde_json::Map<String, serde_json::Value> = front
                            .objectives
                            .iter()
                            .zip(v)
                            .map(|(o, x)| (o.metric.clone(), serde_json::json!(x)))
                            .collect();
                        serde_json::json!({
                            "trial": id,
                            "objectives": objectives,
                            "parameters": params.get(id).and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok()),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "pareto_front": items,
                        "hypervolume": front.hypervolume,
                        "reference": (!front.trials.is_empty()).then_some(&front.reference),
                        "missing": front.missing.iter().map(|(id, field)| serde_json::json!({"trial": id, "objective": field})).collect::<Vec<_>>(),
                    }))?
                );
            }
            "table" => print_front(&front),
            other => bail!("--format {other:?}: use json or table"),
        }
        return Ok(());
    }
    let best = best_trials(&store, top)?;
    match format {
        "json" => {
            let items: Vec<serde_json::Value> = best
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "trial": t.id,
                        "metric": t.final_metric,
                        "parameters": serde_json::from_str::<serde_json::Value>(&t.parameters).unwrap_or(serde_json::Value::Null),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&items)?);
        }
        "table" => {
            println!("{:>5} {:>8}  PARAMETERS", "TRIAL", "METRIC");
            for t in &best {
                println!(
                    "{:>5} {:>8.4}  {}",
                    t.id,
                    t.final_metric.unwrap_or(f64::NAN),
                    t.parameters
                );
            }
        }
        other => bail!("--format {other:?}: use json or table"),
    }
    Ok(())
}

/// NNI's export shapes (`nnictl experiment export --type json|csv`).
fn export_nni(
    dir: &Path,
    nni_type: &str,
    filename: Option<&Path>,
    intermediate: bool,
) -> Result<()> {
    use archon_experiment::nni_export::{self, NniExportType};
    let kind = NniExportType::parse(nni_type)?;
    let store = Store::open_read_only(dir)?;
    let records = nni_export::records(&store, dir, intermediate)?;
    let text = match kind {
        NniExportType::Json => nni_export::to_json(&records),
        NniExportType::Csv => nni_export::to_csv(&records)?,
    };
    match filename {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("writing the export to {}", path.display()))?;
            reporter::note(format!(
                "{} trials exported to {}",
                records.len(),
                path.display()
            ));
        }
        None => println!("{text}"),
    }
    Ok(())
}

fn logs(dir: &Path, trial: Option<u64>) -> Result<()> {
    let store = Store::open_read_only(dir)?;
    match trial {
        Some(id) => {
            let trial_dir = store.trial_dir(id);
            if !trial_dir.is_dir() {
                bail!("experiment {} has no trial {id}", id_of(dir));
            }
            for name in ["stdout.log", "stderr.log"] {
                let path = trial_dir.join(name);
                println!("==> {} <==", path.display());
                print!("{}", std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
        None => {
            for t in store.trials()? {
                println!(
                    "trial {:>4} {:<13} {}",
                    t.id,
                    t.status.as_str(),
                    store.trial_dir(t.id).display()
                );
            }
        }
    }
    Ok(())
}
