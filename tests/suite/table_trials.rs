//! `trial.table`: trials answered from a table of measured architectures instead of
//! being run — every metric column reported, the chosen one as the value; a missing
//! architecture is a failed trial saying which; bad tables are refused before anything
//! runs, naming the column.

use archon::experiment::store::{Store, TrialStatus};
use archon_tests::{archon, only_experiment, run};
use std::path::Path;
use tempfile::TempDir;

const SPACE: &str = r#"{"op": {"_type": "layer_choice", "_value": ["conv", "pool", "skip"]},
                       "k": {"_type": "choice", "_value": [3, 5]}}"#;

/// Every architecture but (skip, 5); acc = a known function of the row.
const TABLE: &str = "op,k,acc,latency_ms\nconv,3,0.91,2.5\nconv,5,0.93,4.0\npool,3,0.80,1.0\npool,5,0.81,1.2\nskip,3,0.70,0.5\n";

fn config(dir: &Path, metric: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("space.json"), SPACE).unwrap();
    std::fs::write(dir.join("table.csv"), TABLE).unwrap();
    let path = dir.join("experiment.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"lookup\"\ndirection = \"maximize\"\nmax_trials = 6\nconcurrency = 2\n\
             [space]\nfile = \"space.json\"\n[trial]\ntable = \"table.csv\"\nmetric = \"{metric}\"\n\
             [tuner]\nname = \"grid\"\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_table_answers_every_trial_and_a_missing_row_fails_by_name() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let cfg = config(home.path(), "acc");
    let (code, out, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&cfg)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 5 succeeded, 1 failed"), "{out}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 6);
    for t in &trials {
        let p: serde_json::Value = serde_json::from_str(&t.parameters).unwrap();
        let op = p["op"]["_value"].as_str().unwrap().to_string();
        let k = p["k"]["_value"].as_f64().unwrap();
        let row = TABLE
            .lines()
            .skip(1)
            .find(|l| l.starts_with(&format!("{op},{k},")));
        match row {
            Some(row) => {
                assert_eq!(t.status, TrialStatus::Succeeded, "{t:?}");
                let acc: f64 = row.split(',').nth(2).unwrap().parse().unwrap();
                assert_eq!(t.final_metric, Some(acc));
                // Every column of the row is reported with the value.
                let metrics = store.metrics(t.id).unwrap();
                assert_eq!(metrics.len(), 1);
                let raw: serde_json::Value = serde_json::from_str(&metrics[0].1).unwrap();
                let latency: f64 = row.split(',').nth(3).unwrap().parse().unwrap();
                assert_eq!(raw["latency_ms"].as_f64(), Some(latency), "{raw}");
            }
            None => {
                assert_eq!((op.as_str(), k), ("skip", 5.0));
                assert_eq!(t.status, TrialStatus::Failed);
                let reason = t.reason.clone().unwrap_or_default();
                assert!(
                    reason.contains("no row for") && reason.contains("op=skip"),
                    "{reason}"
                );
            }
        }
    }
}

#[test]
fn bad_tables_are_refused_before_anything_runs() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    // A metric the table does not have.
    let cfg = config(home.path(), "accuracy");
    let (code, _, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&cfg)
        .arg("--runs-dir")
        .arg(&runs));
    assert_ne!(code, 0);
    assert!(
        err.contains("\"accuracy\"") && err.contains("latency_ms"),
        "{err}"
    );
    assert!(!runs.exists() || std::fs::read_dir(&runs).unwrap().next().is_none());
    // A table without a column for one of the space's labels.
    std::fs::write(
        home.path().join("space.json"),
        SPACE.replace("\"k\"", "\"kernel\""),
    )
    .unwrap();
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("accuracy", "acc");
    std::fs::write(&cfg, text).unwrap();
    // (config() rewrote space.json; write the renamed one after it.)
    std::fs::write(
        home.path().join("space.json"),
        SPACE.replace("\"k\"", "\"kernel\""),
    )
    .unwrap();
    let (code, _, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&cfg)
        .arg("--runs-dir")
        .arg(&runs));
    assert_ne!(code, 0);
    assert!(err.contains("no column \"kernel\""), "{err}");
    // trial.table without trial.metric: the config error names the key.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("metric = \"acc\"\n", "");
    std::fs::write(&cfg, text).unwrap();
    let (code, _, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&cfg)
        .arg("--runs-dir")
        .arg(&runs));
    assert_ne!(code, 0);
    assert!(err.contains("trial.metric"), "{err}");
}
