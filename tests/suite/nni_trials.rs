//! NNI users' trial code runs unchanged: a trial written against NNI's API
//! (`nni.get_next_parameter()`, `nni.report_intermediate_result`,
//! `nni.report_final_result` with a number or a dict) under archon's manager, with the
//! `nni` module archon ships first on its path, NNI's variables set, and a user's own
//! (here: broken) `nni` install shadowed for the trial and left as it was.

use archon::store::{Store, TrialStatus};
use archon_tests::{archon, only_experiment, run};
use std::path::Path;
use tempfile::TempDir;

/// An NNI search space with a choice, a uniform, a randint and a nested choice (one
/// candidate without sub-parameters).
const SPACE: &str = r#"{
  "C": {"_type": "uniform", "_value": [0.1, 1.0]},
  "kernel": {"_type": "choice", "_value": ["linear", "rbf"]},
  "depth": {"_type": "randint", "_value": [1, 4]},
  "layer": {"_type": "choice", "_value": [
      {"_name": "empty"},
      {"_name": "conv", "size": {"_type": "choice", "_value": [3, 5]}}]}
}"#;

/// NNI trial code as users write it: checks the parameters' NNI shape, reports two
/// intermediate results and a dict final result computed from the parameters, and
/// records NNI's variables in its output folder.
const TRIAL: &str = r#"
import json, os
import nni

params = nni.get_next_parameter()
assert isinstance(params["C"], float), params
assert params["kernel"] in ("linear", "rbf"), params
assert params["depth"] in (1, 2, 3), params
layer = params["layer"]
assert isinstance(layer, dict) and layer["_name"] in ("empty", "conv"), params
assert layer["_name"] == "empty" or layer["size"] in (3, 5), params
score = params["C"] + (1.0 if params["kernel"] == "rbf" else 0.0) + params["depth"]
for step in range(2):
    nni.report_intermediate_result(score * (step + 1) / 3)
with open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "seen.json"), "w") as f:
    json.dump({"exp": nni.get_experiment_id(), "trial": nni.get_trial_id(),
               "seq": nni.get_sequence_id(), "params": params,
               "cwd": os.getcwd(), "code_dir": os.environ["NNI_CODE_DIR"],
               "module": nni.__file__}, f)
nni.report_final_result({"default": score, "kernel_rbf": params["kernel"] == "rbf"})
"#;

const CONFIG: &str = r#"
name = "nni-trial"
direction = "maximize"
max_trials = 6
concurrency = 2
seed = 5
[space]
file = "search_space.json"
[trial]
command = ["python3", "mnist.py"]
timeout = "60s"
[tuner]
name = "random"
"#;

#[test]
fn nni_trial_code_runs_unchanged_and_its_metrics_are_recorded() {
    let home = TempDir::new().unwrap();
    let code = home.path().join("code");
    std::fs::create_dir(&code).unwrap();
    std::fs::write(code.join("search_space.json"), SPACE).unwrap();
    std::fs::write(code.join("mnist.py"), TRIAL).unwrap();
    std::fs::write(code.join("experiment.toml"), CONFIG).unwrap();
    // The user's own `nni`, which would fail every trial if it were imported.
    let own = home.path().join("site");
    std::fs::create_dir_all(own.join("nni")).unwrap();
    let broken = "raise ImportError('the user install, not archon')\n";
    std::fs::write(own.join("nni/__init__.py"), broken).unwrap();
    let runs = home.path().join("runs");
    let (status, out, err) = run(archon(home.path())
        .env("PYTHONPATH", &own)
        .args(["experiment", "run"])
        .arg(code.join("experiment.toml"))
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(status, 0, "{out}\n{err}");
    assert!(out.contains(": 6 succeeded, 0 failed"), "{out}\n{err}");
    assert_eq!(
        std::fs::read_to_string(own.join("nni/__init__.py")).unwrap(),
        broken,
        "the user's install is left as it was"
    );
    let dir = only_experiment(&runs);
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let store = Store::open(&dir).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 6);
    let mut layers = Vec::new();
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Succeeded, "trial {}", t.id);
        let seen: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(store.trial_dir(t.id).join("seen.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(seen["exp"], id.as_str());
        assert_eq!(seen["trial"], t.id.to_string().as_str());
        assert_eq!(seen["seq"], t.id);
        assert!(
            seen["module"]
                .as_str()
                .unwrap()
                .starts_with(dir.to_str().unwrap()),
            "the trial imported archon's nni: {seen}"
        );
        assert_eq!(
            Path::new(seen["cwd"].as_str().unwrap())
                .canonicalize()
                .unwrap(),
            code.canonicalize().unwrap()
        );
        layers.push(
            seen["params"]["layer"]["_name"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        // The final metric is the trial's own formula over the parameters it was given.
        let p = &seen["params"];
        let expected = p["C"].as_f64().unwrap()
            + if p["kernel"] == "rbf" { 1.0 } else { 0.0 }
            + p["depth"].as_f64().unwrap();
        assert!((t.final_metric.unwrap() - expected).abs() < 1e-9, "{seen}");
        // Two intermediate results and the final one, with the dict's extra key kept.
        let metrics = store.metrics(t.id).unwrap();
        assert_eq!(metrics.len(), 3, "trial {}", t.id);
        assert!(!metrics[0].2 && !metrics[1].2 && metrics[2].2);
        assert!((metrics[1].0 - expected * 2.0 / 3.0).abs() < 1e-9);
        let last: serde_json::Value = serde_json::from_str(&metrics[2].1).unwrap();
        assert_eq!(last["kernel_rbf"], p["kernel"] == "rbf");
    }
    // Both shapes of the nested choice reached the trial as NNI gives them.
    assert!(layers.iter().any(|l| l == "empty") && layers.iter().any(|l| l == "conv"));
}
