//! The read-only JSON API over the experiments of a runs folder. Experiment ids are
//! checked against the folder's own listing (never joined onto a path unchecked), so a
//! request can only reach `RUNS/<id>/experiment.db` and `RUNS/<id>/trials/<n>/*.log`.

use super::http::{Request, Response};
use anyhow::Result;
use archon_store::{ExperimentStatus, Store, TrialStatus};
use serde_json::{json, Value};
use std::{
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

/// Bytes of a trial log shown as its tail.
const LOG_TAIL: u64 = 8 * 1024;

/// The experiment folders under `runs`, by id.
fn experiment_dirs(runs: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let id = e.file_name().to_str()?.to_string();
            let dir = e.path();
            dir.join("experiment.db").is_file().then_some((id, dir))
        })
        .collect();
    out.sort();
    out
}

/// The folder of experiment `id`, if `id` is one of the listed experiments.
fn find(runs: &Path, id: &str) -> Option<PathBuf> {
    experiment_dirs(runs)
        .into_iter()
        .find(|(name, _)| name == id)
        .map(|(_, dir)| dir)
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn config_table(store: &Store) -> toml::Table {
    store
        .meta("config")
        .ok()
        .flatten()
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default()
}

fn str_at<'a>(table: &'a toml::Table, section: &str, key: &str) -> Option<&'a str> {
    table.get(section)?.get(key)?.as_str()
}

/// The summary line of one experiment.
fn summary(id: &str, store: &Store) -> Result<Value> {
    let meta = |k: &str| store.meta(k).ok().flatten();
    let cfg = config_table(store);
    let one_shot = store.is_one_shot().unwrap_or(false);
    let num = |k: &str| meta(k).and_then(|v| v.parse::<f64>().ok());
    let (best, trials, algorithm, space) = if one_shot {
        let best = store
            .search_epochs()
            .unwrap_or_default()
            .iter()
            .filter_map(|e| parse_json(&e.metrics).get("valid_accuracy")?.as_f64())
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        (
            best,
            0,
            meta("algorithm").unwrap_or_default(),
            meta("space")
                .or_else(|| str_at(&cfg, "space", "builtin").map(str::to_string))
                .unwrap_or_default(),
        )
    } else {
        let trials = store.trials().unwrap_or_default();
        let maximize = cfg.get("direction").and_then(|d| d.as_str()) != Some("minimize");
        let best = trials
            .iter()
            .filter(|t| t.status == TrialStatus::Succeeded)
            .filter_map(|t| t.final_metric)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| if maximize { a.max(v) } else { a.min(v) }))
            });
        (
            best,
            trials.len(),
            str_at(&cfg, "tuner", "name")
                .unwrap_or_default()
                .to_string(),
            str_at(&cfg, "space", "builtin")
                .or_else(|| str_at(&cfg, "space", "file"))
                .unwrap_or_default()
                .to_string(),
        )
    };
    let created = num("created").or_else(|| num("started"));
    let running = store.status().ok().flatten() == Some(ExperimentStatus::Running);
    let ended = num("ended").filter(|_| !running);
    let duration = created.map(|c| ended.unwrap_or_else(archon_store::now) - c);
    Ok(json!({
        "id": id,
        "kind": if one_shot { "one-shot" } else { "classic" },
        "status": store.status_text().unwrap_or_default(),
        "algorithm": algorithm,
        "space": space,
        "best": best,
        "trials": trials,
        "direction": cfg.get("direction").and_then(|d| d.as_str()).unwrap_or("maximize"),
        "objectives": objectives(store),
        "duration": duration,
    }))
}

fn tail(path: &Path) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL)));
    let mut buf = Vec::new();
    let _ = f.take(LOG_TAIL).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The experiment's objectives (none for one objective or an unreadable config).
fn objectives(store: &Store) -> Vec<archon_experiment::pareto::Objective> {
    store
        .config_text()
        .ok()
        .and_then(|text| {
            archon_experiment::config::ExperimentConfig::parse(&text, Path::new("experiment.toml"))
                .ok()
        })
        .map(|cfg| cfg.objectives)
        .unwrap_or_default()
}

fn trials(store: &Store) -> Result<Value> {
    use std::collections::{HashMap, HashSet};
    // With several objectives: each trial's values and whether it is on the front.
    let objectives = objectives(store);
    let (values, front): (HashMap<u64, Vec<f64>>, HashSet<u64>) = if objectives.is_empty() {
        Default::default()
    } else {
        let front = archon_experiment::pareto::experiment_front(store, &objectives)?;
        let on_front = front.trials.iter().map(|(id, _)| *id).collect();
        (front.points.into_iter().collect(), on_front)
    };
    let list: Vec<Value> = store
        .trials()?
        .into_iter()
        .map(|t| {
            let info = t.info_json();
            let metrics: Vec<f64> = store
                .metrics(t.id)
                .unwrap_or_default()
                .into_iter()
                .map(|m| m.0)
                .collect();
            json!({
                "id": t.id,
                "status": t.status.as_str(),
                "metric": t.final_metric,
                "parameters": parse_json(&t.parameters),
                "attempts": t.attempts,
                "budget": info["budget"].as_f64(),
                "promoted_from": info["promoted_from"],
                "prefilter": info["prefilter"],
                "objectives": values.get(&t.id),
                "on_front": front.contains(&t.id),
                "reason": t.reason,
                "started": t.started,
                "ended": t.ended,
                "intermediate": metrics,
            })
        })
        .collect();
    Ok(Value::Array(list))
}

fn trial(store: &Store, id: u64) -> Result<Option<Value>> {
    let Some(t) = store.trials()?.into_iter().find(|t| t.id == id) else {
        return Ok(None);
    };
    let dir = store.trial_dir(id);
    Ok(Some(json!({
        "id": t.id,
        "status": t.status.as_str(),
        "metric": t.final_metric,
        "parameters": parse_json(&t.parameters),
        "reason": t.reason,
        "exit_code": t.exit_code,
        "metrics": store.metrics(id)?.into_iter().map(|(v, raw, f)| json!({"value": v, "raw": raw, "final": f})).collect::<Vec<_>>(),
        "stdout": tail(&dir.join("stdout.log")),
        "stderr": tail(&dir.join("stderr.log")),
    })))
}

fn experiment(id: &str, store: &Store) -> Result<Value> {
    let mut meta = serde_json::Map::new();
    for (k, v) in store.all_meta()? {
        let value = match k.as_str() {
            "search_space" | "architecture" => parse_json(&v),
            _ => Value::String(v),
        };
        meta.insert(k, value);
    }
    let epochs: Vec<Value> = store
        .search_epochs()
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            json!({
                "epoch": e.epoch,
                "metrics": parse_json(&e.metrics),
                "arch_weights": parse_json(&e.arch_weights),
                "architecture": e.architecture.as_deref().map(parse_json),
            })
        })
        .collect();
    let populations: Vec<Value> = store
        .search_populations()
        .unwrap_or_default()
        .into_iter()
        .map(|(g, p)| json!({"generation": g, "population": parse_json(&p)}))
        .collect();
    let cell_layouts = meta
        .get("search_space")
        .map(super::cell_layout::space_layouts)
        .unwrap_or_default();
    Ok(json!({
        "summary": summary(id, store)?,
        "meta": meta,
        "cell_layouts": cell_layouts,
        "epochs": epochs,
        "populations": populations,
    }))
}

/// Answers an API request under `/api/`.
pub fn handle(runs: &Path, req: &Request) -> Response {
    let parts: Vec<&str> = req
        .path
        .trim_start_matches("/api/")
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let open = |id: &str| -> std::result::Result<(PathBuf, Store), Response> {
        let dir = find(runs, id).ok_or_else(|| Response::error(404, "no such experiment"))?;
        let store = Store::open_read_only(&dir)
            .map_err(|e| Response::error(500, &format!("cannot read the experiment: {e:#}")))?;
        Ok((dir, store))
    };
    let result = match parts.as_slice() {
        ["experiments"] => {
            let list: Vec<Value> = experiment_dirs(runs)
                .into_iter()
                .filter_map(|(id, dir)| {
                    let store = Store::open_read_only(&dir).ok()?;
                    summary(&id, &store).ok()
                })
                .collect();
            Ok(Value::Array(list))
        }
        ["experiments", id] => open(id).and_then(|(_, s)| experiment(id, &s).map_err(internal)),
        ["experiments", id, "trials"] => open(id).and_then(|(_, s)| trials(&s).map_err(internal)),
        ["experiments", id, "trials", n] => {
            let n: u64 = match n.parse() {
                Ok(n) => n,
                Err(_) => return Response::error(400, "a trial id is a number"),
            };
            open(id).and_then(|(_, s)| match trial(&s, n) {
                Ok(Some(v)) => Ok(v),
                Ok(None) => Err(Response::error(404, "no such trial")),
                Err(e) => Err(internal(e)),
            })
        }
        _ => Err(Response::error(404, "no such API endpoint")),
    };
    match result {
        Ok(v) => Response::json(&v),
        Err(r) => r,
    }
}

fn internal(e: anyhow::Error) -> Response {
    Response::error(500, &format!("{e:#}"))
}
