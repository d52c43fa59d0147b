//! Classic NAS experiments end to end: user trials through the stdout protocol, the
//! built-in trial, failures of every kind, bad configs, and kill -9 / resume.

use archon::store::{Store, TrialStatus};
use archon_tests::{archon, only_experiment, run, trial_config, workspace_root};
use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};
use tempfile::TempDir;

fn experiment(home: &Path, args: &[&str], runs: &Path) -> (i32, String, String) {
    run(archon(home)
        .arg("experiment")
        .args(args)
        .arg("--runs-dir")
        .arg(runs))
}

const PYTHON: &str = r#"
name = "py"
direction = "maximize"
max_trials = 8
concurrency = 2
seed = 3
[space]
builtin = "nas-bench-201"
[trial]
command = ["python3", "trial.py"]
timeout = "60s"
[tuner]
name = "random"
"#;

#[test]
fn a_python_trial_reports_through_stdout_and_export_ranks_the_best() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = trial_config(home.path(), PYTHON);
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 8 succeeded, 0 failed"), "{out}");
    let dir = only_experiment(&runs);
    let store = Store::open(&dir).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 8);
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Succeeded);
        // 3 intermediate metrics and the final one, all recorded.
        let metrics = store.metrics(t.id).unwrap();
        assert_eq!(metrics.len(), 4, "trial {}", t.id);
        assert!(metrics[3].2, "the last metric is final");
        assert_eq!(t.final_metric, Some(metrics[3].0));
    }
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let (code, out, _) = experiment(home.path(), &["export", &id, "--top", "3"], &runs);
    assert_eq!(code, 0);
    let exported: serde_json::Value = serde_json::from_str(&out).unwrap();
    let metrics: Vec<f64> = exported
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metric"].as_f64().unwrap())
        .collect();
    assert_eq!(metrics.len(), 3);
    assert!(metrics.windows(2).all(|w| w[0] >= w[1]), "{metrics:?}");
    let best = trials
        .iter()
        .filter_map(|t| t.final_metric)
        .fold(f64::MIN, f64::max);
    assert_eq!(metrics[0], best);
    assert!(exported[0]["parameters"]["edge_1_0"]["_value"].is_string());
    let (_, out, _) = experiment(home.path(), &["logs", &id, "0"], &runs);
    assert!(
        out.contains("ARCHON_METRIC") && out.contains("epoch 1: training"),
        "{out}"
    );
    let (_, out, _) = experiment(home.path(), &["list"], &runs);
    assert!(
        out.lines()
            .any(|l| l.starts_with(&id) && l.contains("DONE")),
        "{out}"
    );
}

#[test]
fn the_built_in_trial_trains_fashion_mnist_children() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    // The config in its own folder: trials run there, not where `archon` was started.
    let conf = home.path().join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    let config = trial_config(
        &conf,
        r#"
direction = "maximize"
max_trials = 2
concurrency = 2
[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1 }
[trial]
epochs = 1
train_subset = 500
test_subset = 200
[tuner]
name = "random"
"#,
    );
    // A relative runs folder, as `scripts/demo.sh` uses: trials run elsewhere.
    let (code, out, err) = run(archon(home.path()).current_dir(home.path()).args([
        "experiment",
        "run",
        config.to_str().unwrap(),
        "--runs-dir",
        "runs",
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 2 succeeded, 0 failed"), "{out}\n{err}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    for t in store.trials().unwrap() {
        let accuracy = t.final_metric.unwrap();
        assert!((0.0..=1.0).contains(&accuracy));
    }
}

/// The last of a trial's metric lines, parsed.
fn last(metrics: &[(f64, String, bool)]) -> serde_json::Value {
    serde_json::from_str(&metrics.last().expect("a metric").1).unwrap()
}

/// A multi-fidelity tuner's promotion continues from the promoted trial's checkpoint:
/// ASHA on budgets 1 and 3 epochs; every budgeted trial leaves its weights; a promoted
/// one loads them and trains only epochs 2 and 3 of the same schedule.
#[test]
fn promoted_built_in_trials_continue_from_the_promoted_checkpoint() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = trial_config(
        home.path(),
        r#"
direction = "maximize"
max_trials = 7
concurrency = 1
seed = 3
[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1, ops = "skip_connect,nor_conv_3x3,avg_pool_3x3" }
[trial]
epochs = 3
train_subset = 300
test_subset = 100
[tuner]
name = "asha"
options = { min_budget = 1, max_budget = 3, eta = 3 }
"#,
    );
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    let dir = only_experiment(&runs);
    let store = Store::open(&dir).unwrap();
    let trials = store.trials().unwrap();
    let mut promoted = 0;
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Succeeded, "{t:?}");
        let info = store.trial_info(t.id).unwrap();
        let budget = info["budget"].as_f64().unwrap() as u64;
        let own = store.trial_dir(t.id);
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(own.join("checkpoint.json")).unwrap())
                .unwrap();
        assert_eq!(meta["epoch"], budget, "trial {}: {meta}", t.id);
        assert!(own.join("checkpoint.safetensors").is_file());
        let stdout = std::fs::read_to_string(own.join("stdout.log")).unwrap();
        let metrics: Vec<serde_json::Value> = store
            .metrics(t.id)
            .unwrap()
            .iter()
            .map(|m| serde_json::from_str(&m.1).unwrap())
            .collect();
        let epochs_run = metrics.len() as u64;
        match info["promoted_from"].as_u64() {
            Some(from) => {
                promoted += 1;
                let parent = store.trial_info(from).unwrap()["budget"].as_f64().unwrap() as u64;
                assert!(
                    stdout.contains(&format!("after epoch {parent} (promotion)")),
                    "trial {}: {stdout}",
                    t.id
                );
                assert_eq!(epochs_run, budget - parent, "trial {}: {stdout}", t.id);
                let p = &trials[from as usize];
                assert_eq!(p.parameters, t.parameters);
                // Its `tse` goes on from the promoted trial's: that one's sum plus the
                // training losses of the epochs it ran itself.
                let own: f64 = metrics
                    .iter()
                    .map(|m| m["train_loss"].as_f64().unwrap())
                    .sum();
                let before = last(&store.metrics(from).unwrap())["tse"].as_f64().unwrap();
                let tse = last(&store.metrics(t.id).unwrap())["tse"].as_f64().unwrap();
                assert!(
                    (tse - (before + own)).abs() < 1e-9,
                    "trial {}: {tse} vs {before} + {own}",
                    t.id
                );
            }
            None => {
                assert_eq!(epochs_run, budget, "trial {}: {stdout}", t.id);
                let mut sum = 0.0;
                for m in &metrics {
                    sum += m["train_loss"].as_f64().unwrap();
                    assert!((m["tse"].as_f64().unwrap() - sum).abs() < 1e-9, "{m}");
                }
            }
        }
    }
    assert!(promoted >= 1, "no promotion in {} trials", trials.len());
}

#[test]
fn tpe_searches_a_log_uniform_learning_rate_with_the_architecture_on_fashion_mnist() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = trial_config(
        home.path(),
        r#"
direction = "maximize"
max_trials = 5
concurrency = 2
[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1 }
hyperparameters = { lr = { _type = "loguniform", _value = [0.001, 0.5] }, batch_size = { _type = "choice", _value = [32, 64] } }
[trial]
epochs = 1
train_subset = 400
test_subset = 200
[tuner]
name = "tpe"
options = { n_startup_jobs = 3 }
"#,
    );
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 5 succeeded, 0 failed"), "{out}\n{err}");
    let dir = only_experiment(&runs);
    let store = Store::open(&dir).unwrap();
    let mut lrs = std::collections::HashSet::new();
    for t in store.trials().unwrap() {
        let p: serde_json::Value = serde_json::from_str(&t.parameters).unwrap();
        let lr = p["lr"]["_value"].as_f64().unwrap();
        let batch = p["batch_size"]["_value"].as_i64().unwrap();
        assert!((0.001..=0.5).contains(&lr), "{p}");
        assert_eq!(
            p.as_object().unwrap().len(),
            6 + 2,
            "6 edges and 2 settings: {p}"
        );
        lrs.insert(lr.to_bits());
        // The trial trained with the proposed settings.
        let log = std::fs::read_to_string(store.trial_dir(t.id).join("stdout.log")).unwrap();
        assert!(
            log.contains(&format!("batch {batch}, lr {lr},")),
            "trial {} log does not show lr {lr} and batch {batch}:\n{log}",
            t.id
        );
        assert!((0.0..=1.0).contains(&t.final_metric.unwrap()));
    }
    assert_eq!(lrs.len(), 5, "every trial got its own learning rate");
}

#[test]
fn a_nested_space_runs_with_tpe_and_trials_get_only_the_chosen_branch() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    std::fs::write(
        home.path().join("space.json"),
        r#"{"layer": {"_type": "choice", "_value": [
              {"_name": "empty"},
              {"_name": "conv", "kernel": {"_type": "choice", "_value": [3, 5, 7]},
                                "lr": {"_type": "loguniform", "_value": [0.001, 0.1]}}]},
            "skip": {"_type": "input_choice", "_value": {"candidates": ["", ""], "n_chosen": 1}}}"#,
    )
    .unwrap();
    // The trial reads the nested parameters as NNI users do and fails on a stray key.
    let trial = r#"
import json, os
p = json.loads(os.environ["ARCHON_PARAMETERS"])
layer = p["layer"]
if layer["_value"] == "conv":
    score = layer["kernel"]["_value"] / 10 + layer["lr"]["_value"]
else:
    assert set(layer) == {"_value", "_idx"}, layer
    score = 0.1
print("ARCHON_METRIC", score)
"#;
    std::fs::write(home.path().join("nested_trial.py"), trial).unwrap();
    let config = home.path().join("experiment.toml");
    std::fs::write(
        &config,
        r#"
direction = "maximize"
max_trials = 12
[space]
file = "space.json"
[trial]
command = ["python3", "nested_trial.py"]
[tuner]
name = "tpe"
options = { n_startup_jobs = 4 }
"#,
    )
    .unwrap();
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 12 succeeded, 0 failed"), "{out}\n{err}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let conv = store
        .trials()
        .unwrap()
        .iter()
        .filter(|t| t.parameters.contains("\"conv\""))
        .count();
    assert!(
        conv >= 6,
        "tpe prefers the better branch: {conv} of 12 trials chose conv"
    );
}

#[test]
fn a_two_objective_experiment_exports_its_pareto_front_of_accuracy_and_latency() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = trial_config(
        home.path(),
        r#"
direction = "maximize"
max_trials = 6
concurrency = 2
objectives = [{ metric = "default", direction = "maximize" }, { metric = "latency_ms", direction = "minimize" }]
[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1 }
[trial]
epochs = 1
train_subset = 300
test_subset = 200
[tuner]
name = "nsga2"
options = { population_size = 4 }
"#,
    );
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    let dir = only_experiment(&runs);
    let store = Store::open(&dir).unwrap();
    // The built-in trial reports its size and measured latency with its accuracy.
    let mut points = Vec::new();
    for t in store.trials().unwrap() {
        let raw = store.final_metric_raw(t.id).unwrap().unwrap();
        let m: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert!(
            m["params"].as_u64().unwrap() > 0 && m["flops"].as_u64().unwrap() > 0,
            "{m}"
        );
        let latency = m["latency_ms"].as_f64().unwrap();
        assert!(latency > 0.0, "{m}");
        points.push((t.id, t.final_metric.unwrap(), latency));
    }
    assert_eq!(points.len(), 6);
    let (code, exported, err) = experiment(
        home.path(),
        &["export", dir.to_str().unwrap(), "--format", "json"],
        &runs,
    );
    assert_eq!(code, 0, "{err}");
    let front: serde_json::Value = serde_json::from_str(&exported).unwrap();
    let members = front["pareto_front"].as_array().unwrap();
    assert!(!members.is_empty(), "{front}");
    assert!(front["hypervolume"].as_f64().unwrap() >= 0.0);
    // Exactly the trials no other trial beats on both objectives.
    let undominated: std::collections::BTreeSet<u64> = points
        .iter()
        .filter(|a| {
            !points
                .iter()
                .any(|b| b.1 >= a.1 && b.2 <= a.2 && (b.1 > a.1 || b.2 < a.2))
        })
        .map(|a| a.0)
        .collect();
    let exported_ids: std::collections::BTreeSet<u64> = members
        .iter()
        .map(|m| m["trial"].as_u64().unwrap())
        .collect();
    assert_eq!(exported_ids, undominated, "{front}");
    for m in members {
        assert!(
            m["objectives"]["latency_ms"].is_number() && m["parameters"].is_object(),
            "{m}"
        );
    }
    let (code, shown, _) = experiment(home.path(), &["show", dir.to_str().unwrap()], &runs);
    assert_eq!(code, 0);
    assert!(
        shown.contains("Pareto front:") && shown.contains("hypervolume"),
        "{shown}"
    );
}

#[test]
fn numeric_types_a_tuner_cannot_read_are_refused_before_any_trial() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = trial_config(
        home.path(),
        r#"
direction = "maximize"
max_trials = 2
[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1 }
hyperparameters = { lr = { _type = "loguniform", _value = [0.001, 0.5] } }
[trial]
epochs = 1
[tuner]
name = "grid"
"#,
    );
    let (code, out, err) = experiment(home.path(), &["run", config.to_str().unwrap()], &runs);
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(
        err.contains("giving the tuner \"grid\" the search space")
            && err.contains(
                "\"lr\" is a \"loguniform\" parameter, which this tuner does not support"
            ),
        "{err}"
    );
    let bad = trial_config(
        home.path(),
        r#"
direction = "maximize"
[space]
builtin = "nas-bench-201"
hyperparameters = { momentum = { _type = "uniform", _value = [0.5, 0.9] } }
[trial]
epochs = 1
[tuner]
name = "tpe"
"#,
    );
    let (code, _, err) = experiment(home.path(), &["run", bad.to_str().unwrap()], &runs);
    assert_ne!(code, 0);
    assert!(
        err.contains("space.hyperparameters.momentum")
            && err.contains("takes no hyperparameter \"momentum\""),
        "{err}"
    );
}

fn failing(command: &str, timeout: &str, retries: u32) -> String {
    format!(
        r#"
direction = "minimize"
max_trials = 2
[space]
builtin = "nas-bench-201"
[trial]
command = ["sh", "-c", '{command}']
timeout = "{timeout}"
retries = {retries}
[tuner]
name = "random"
"#
    )
}

/// Runs a failing experiment; returns its trials.
fn run_failing(config: &str) -> (String, Vec<archon::store::TrialRecord>, Duration) {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let path = trial_config(home.path(), config);
    let start = Instant::now();
    let (code, out, err) = experiment(home.path(), &["run", path.to_str().unwrap()], &runs);
    let took = start.elapsed();
    assert_eq!(code, 0, "{out}\n{err}");
    let trials = Store::open(&only_experiment(&runs))
        .unwrap()
        .trials()
        .unwrap();
    (out, trials, took)
}

#[test]
fn a_crashing_trial_fails_with_its_exit_code_after_its_retries() {
    let (out, trials, _) = run_failing(&failing("echo starting; exit 3", "30s", 1));
    assert!(out.contains(": 0 succeeded, 2 failed"), "{out}");
    for t in trials {
        assert_eq!(t.status, TrialStatus::Failed);
        assert_eq!(t.reason.as_deref(), Some("exited with code 3"));
        assert_eq!((t.attempts, t.exit_code), (2, Some(3)));
    }
}

#[test]
fn a_hanging_trial_is_killed_at_its_timeout_with_its_children() {
    let marker = format!("archon-hang-{}", std::process::id());
    // The trial starts a grandchild that would outlive it without the process group.
    let grandchild = format!("python3 -c \"import time; time.sleep(300)\" {marker} & sleep 300");
    let (_, trials, took) = run_failing(&failing(&grandchild, "1s", 0));
    assert!(took < Duration::from_secs(30), "took {took:?}");
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Failed);
        assert_eq!(t.reason.as_deref(), Some("timed out after 1s"));
    }
    std::thread::sleep(Duration::from_millis(300));
    let survivors = Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert!(survivors.is_empty(), "processes left behind: {survivors}");
}

#[test]
fn a_trial_printing_garbage_metrics_fails_with_the_line() {
    let (_, trials, _) = run_failing(&failing("echo ARCHON_METRIC {oops", "30s", 0));
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Failed);
        let reason = t.reason.clone().unwrap_or_default();
        assert!(reason.contains("is not `ARCHON_METRIC <JSON>`"), "{reason}");
    }
    let (_, trials, _) = run_failing(&failing("echo no metric here", "30s", 0));
    assert!(trials[0]
        .reason
        .as_deref()
        .unwrap_or_default()
        .starts_with("exited without reporting a metric"));
}

#[test]
fn bad_configs_name_the_key_and_line() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    for (config, expected) in [
        (
            PYTHON.replace("seed = 3", "seed = 3\nsead = 4"),
            "unknown field `sead`",
        ),
        (
            PYTHON.replace("concurrency = 2", "concurrency = 0"),
            "concurrency (line 5): must be at least 1",
        ),
        (
            PYTHON.replace("name = \"random\"", "name = \"no-such-tuner\""),
            "no plugin named \"no-such-tuner\"",
        ),
        (
            PYTHON.replace("builtin = \"nas-bench-201\"", "builtin = \"nas-bench-202\""),
            "no search space named \"nas-bench-202\"",
        ),
    ] {
        let path = trial_config(home.path(), &config);
        let (code, _, err) = experiment(home.path(), &["run", path.to_str().unwrap()], &runs);
        assert_eq!(code, 1, "{config}");
        assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        assert!(
            err.contains("experiment.toml"),
            "the error names the file:\n{err}"
        );
    }
    assert!(
        !runs.exists() || std::fs::read_dir(&runs).unwrap().next().is_none(),
        "a bad config must not create an experiment"
    );
}

#[test]
fn kill_minus_9_loses_nothing_and_resume_finishes_without_rerunning() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = trial_config(
        home.path(),
        &PYTHON
            .replace("max_trials = 8", "max_trials = 6")
            .replace("concurrency = 2", "concurrency = 1"),
    );
    let mut manager = archon(home.path())
        .args(["experiment", "run", config.to_str().unwrap(), "--runs-dir"])
        .arg(&runs)
        .env("TRIAL_SLEEP", "0.3")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until two trials have finished, then kill the manager without warning.
    let deadline = Instant::now() + Duration::from_secs(60);
    let dir = loop {
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(100));
        let Ok(mut entries) = std::fs::read_dir(&runs) else {
            continue;
        };
        let Some(Ok(entry)) = entries.next() else {
            continue;
        };
        let Ok(store) = Store::open(&entry.path()) else {
            continue;
        };
        let done = store
            .trials()
            .unwrap_or_default()
            .iter()
            .filter(|t| t.status == TrialStatus::Succeeded)
            .count();
        if done >= 2 {
            break entry.path();
        }
    };
    manager.kill().unwrap(); // SIGKILL
    manager.wait().unwrap();
    let before = Store::open(&dir).unwrap();
    let finished_before: Vec<_> = before
        .trials()
        .unwrap()
        .into_iter()
        .filter(|t| t.status == TrialStatus::Succeeded)
        .collect();
    let metrics_before: usize = before
        .trials()
        .unwrap()
        .iter()
        .map(|t| before.metrics(t.id).unwrap().len())
        .sum();
    drop(before);
    std::thread::sleep(Duration::from_secs(2)); // let the orphaned trial finish

    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let (code, out, err) = experiment(home.path(), &["resume", &id], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    let after = Store::open(&dir).unwrap();
    let trials = after.trials().unwrap();
    assert_eq!(trials.len(), 6, "{out}");
    assert!(
        trials.iter().all(|t| t.status == TrialStatus::Succeeded),
        "{trials:?}"
    );
    for old in &finished_before {
        let now = trials.iter().find(|t| t.id == old.id).unwrap();
        assert_eq!(
            (now.attempts, now.final_metric),
            (1, old.final_metric),
            "trial {} was run again",
            old.id
        );
    }
    let metrics_after: usize = trials
        .iter()
        .map(|t| after.metrics(t.id).unwrap().len())
        .sum();
    assert!(metrics_after >= metrics_before + 4 * (6 - finished_before.len()) - 4);
    let distinct: std::collections::HashSet<&str> =
        trials.iter().map(|t| t.parameters.as_str()).collect();
    assert_eq!(
        distinct.len(),
        6,
        "the resumed tuner proposed an architecture twice"
    );
    assert_eq!(after.meta("status").unwrap().as_deref(), Some("DONE"));
}

#[test]
fn median_stop_stops_trials_worse_than_the_median() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let config = trial_config(
        home.path(),
        &(PYTHON
            .replace("max_trials = 8", "max_trials = 10")
            .replace("concurrency = 2", "concurrency = 1")
            + "[assessor]\nname = \"medianstop\"\nstart_step = 1\n"),
    );
    let (code, out, err) = run(archon(home.path())
        .args(["experiment", "run", config.to_str().unwrap(), "--runs-dir"])
        .arg(&runs)
        .env("TRIAL_SLEEP", "0.4"));
    assert_eq!(code, 0, "{out}\n{err}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let trials = store.trials().unwrap();
    let stopped: Vec<_> = trials
        .iter()
        .filter(|t| t.status == TrialStatus::EarlyStopped)
        .collect();
    assert!(!stopped.is_empty(), "no trial was stopped early:\n{err}");
    for t in &stopped {
        assert!(
            t.reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("median stop"),
            "{:?}",
            t.reason
        );
        assert!(
            store.metrics(t.id).unwrap().len() < 4,
            "trial {} ran to the end",
            t.id
        );
    }
    // The best trial is never one that was stopped.
    let best = trials
        .iter()
        .filter(|t| t.status == TrialStatus::Succeeded)
        .count();
    assert!(best >= 1);
}

/// Runs `tuner` for 200 trials on a structured synthetic reward scored by a Python
/// trial; returns the mean reward of the last 50 trials.
fn late_mean_reward(tuner: &str, options: &str) -> f64 {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let ops = r#"["conv3", "conv5", "pool", "skip", "sep3", "sep5"]"#;
    let space: Vec<String> = (0..10)
        .map(|i| format!(r#""layer{i}": {{"_type": "layer_choice", "_value": {ops}}}"#))
        .collect();
    std::fs::write(
        home.path().join("space.json"),
        format!("{{{}}}", space.join(",")),
    )
    .unwrap();
    std::fs::write(
        home.path().join("score.py"),
        "import json, os\np = json.loads(os.environ['ARCHON_PARAMETERS'])\nprint('ARCHON_METRIC', sum(p[f'layer{i}']['_value'] == ['sep3', 'conv3'][i % 2] for i in range(10)))\n",
    )
    .unwrap();
    let config = format!(
        "direction = \"maximize\"\nmax_trials = 200\nconcurrency = 4\nseed = 11\n[space]\nfile = \"space.json\"\n[trial]\ncommand = [\"python3\", \"score.py\"]\n[tuner]\nname = \"{tuner}\"\noptions = {options}\n"
    );
    let path = home.path().join("experiment.toml");
    std::fs::write(&path, config).unwrap();
    let (code, out, err) = experiment(home.path(), &["run", path.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    let trials = Store::open(&only_experiment(&runs))
        .unwrap()
        .trials()
        .unwrap();
    assert_eq!(trials.len(), 200);
    trials[150..]
        .iter()
        .map(|t| t.final_metric.unwrap())
        .sum::<f64>()
        / 50.0
}

#[test]
fn evolution_and_ppo_outrank_random_on_a_structured_reward() {
    let random = late_mean_reward("random", "{}");
    let evolution = late_mean_reward(
        "evolution",
        "{ population_size = 30, sample_size = 8, mutation_prob = 0.1 }",
    );
    let ppo = late_mean_reward("ppo", "{ lr = 0.01 }");
    // Random averages 10/6 ≈ 1.7 target positions.
    assert!(random < 2.6, "random {random}");
    assert!(
        evolution > random + 2.0,
        "evolution {evolution} vs random {random}"
    );
    assert!(ppo > random + 1.5, "ppo {ppo} vs random {random}");
}

#[test]
fn the_python_example_config_runs_as_shipped() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let example = workspace_root().join("examples/classic-python.toml");
    let (code, out, err) = experiment(home.path(), &["run", example.to_str().unwrap()], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 12 succeeded, 0 failed"), "{out}");
    assert!(out.contains("best: trial "), "{out}");
}

/// Local trials share the cores: each gets OMP_NUM_THREADS = cores ÷ concurrency (at
/// least 1) unless the user set it, which then passes through as it is.
#[test]
fn local_trials_share_the_cores_unless_the_user_sets_threads() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for (preset, expected) in [(None, (cores / 2).max(1)), (Some("3"), 3)] {
        let home = TempDir::new().unwrap();
        let runs = home.path().join("runs");
        let config = home.path().join("threads.toml");
        std::fs::write(
            &config,
            "direction = \"maximize\"\nmax_trials = 2\nconcurrency = 2\n\
             [space]\nbuiltin = \"nas-bench-201\"\n\
             [trial]\ncommand = [\"sh\", \"-c\", \"echo ARCHON_METRIC ${OMP_NUM_THREADS:-0}\"]\n\
             [tuner]\nname = \"random\"\n",
        )
        .unwrap();
        let mut cmd = archon(home.path());
        cmd.env_remove("OMP_NUM_THREADS");
        if let Some(n) = preset {
            cmd.env("OMP_NUM_THREADS", n);
        }
        let (code, out, err) = run(cmd
            .args(["experiment", "run"])
            .arg(&config)
            .arg("--runs-dir")
            .arg(&runs));
        assert_eq!(code, 0, "{out}\n{err}");
        for t in Store::open(&only_experiment(&runs))
            .unwrap()
            .trials()
            .unwrap()
        {
            assert_eq!(t.final_metric, Some(expected as f64), "preset {preset:?}");
        }
    }
}

/// Every shipped classic-experiment config is accepted as it is (checked by `create`:
/// the space, the tuner built with its options and given the space, the trial
/// settings).
#[test]
fn every_example_experiment_config_is_accepted() {
    let mut checked = 0;
    for entry in std::fs::read_dir(workspace_root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if path.extension().is_none_or(|e| e != "toml") || !text.contains("[tuner]") {
            continue;
        }
        let home = TempDir::new().unwrap();
        let runs = home.path().join("runs");
        let (code, out, err) = experiment(home.path(), &["create", path.to_str().unwrap()], &runs);
        assert_eq!(code, 0, "{}: {out}\n{err}", path.display());
        checked += 1;
    }
    assert!(checked >= 3, "{checked} example experiments");
    // `create` builds the tuner: a misspelt option is refused before anything runs.
    let home = TempDir::new().unwrap();
    let text = std::fs::read_to_string(workspace_root().join("examples/asha-fmnist.toml"))
        .unwrap()
        .replace("promote_by =", "promote_bye =");
    let bad = home.path().join("bad.toml");
    std::fs::write(&bad, text).unwrap();
    let runs = home.path().join("runs");
    let (code, out, err) = experiment(home.path(), &["create", bad.to_str().unwrap()], &runs);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("[tuner]") && err.contains("no option \"promote_bye\""),
        "{err}"
    );
}

#[test]
fn stop_cancels_running_trials_and_leaves_no_process() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let marker = format!("archon-stop-{}", std::process::id());
    let config = trial_config(
        home.path(),
        &failing(
            &format!("python3 -c \"import time; time.sleep(300)\" {marker}"),
            "5m",
            0,
        )
        .replace("max_trials = 2", "max_trials = 4\nconcurrency = 2"),
    );
    let mut manager = archon(home.path())
        .args(["experiment", "run", config.to_str().unwrap(), "--runs-dir"])
        .arg(&runs)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for two running trials.
    let deadline = Instant::now() + Duration::from_secs(30);
    let dir = loop {
        assert!(Instant::now() < deadline, "trials did not start");
        std::thread::sleep(Duration::from_millis(100));
        let Some(Ok(entry)) = std::fs::read_dir(&runs).ok().and_then(|mut e| e.next()) else {
            continue;
        };
        let Ok(store) = Store::open(&entry.path()) else {
            continue;
        };
        if store.trials().unwrap_or_default().len() == 2 {
            break entry.path();
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let (code, out, err) = experiment(home.path(), &["stop", &id], &runs);
    assert_eq!(code, 0, "{out}\n{err}");
    let status = manager.wait().unwrap();
    assert!(
        status.success(),
        "the manager exits cleanly after stop: {status}"
    );
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.meta("status").unwrap().as_deref(), Some("STOPPED"));
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 2, "no new trial starts after stop");
    assert!(
        trials.iter().all(|t| t.status == TrialStatus::Canceled),
        "{trials:?}"
    );
    let survivors = Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert!(
        survivors.is_empty(),
        "trial processes left behind: {survivors}"
    );
    let (code, _, err) = experiment(home.path(), &["stop", &id], &runs);
    assert_eq!(code, 1);
    assert!(err.contains("is not running"), "{err}");
}
