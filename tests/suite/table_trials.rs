//! `trial.table`: trials answered from a table of measured architectures instead of
//! being run — every metric column reported, the chosen one as the value; a missing
//! architecture is a failed trial saying which; bad tables are refused before anything
//! runs, naming the column.

use archon::store::{Store, TrialStatus};
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

/// 12 architectures with a learning curve per row: `acc@1`, `acc@3`, `acc@9`, and
/// `tse@1`, `tse@3`, `tse@9`, which rank them the other way round.
fn curve_table(dir: &Path) -> std::path::PathBuf {
    let space = r#"{"op": {"_type": "layer_choice", "_value": ["a", "b", "c", "d", "e", "f"]},
                    "k": {"_type": "choice", "_value": [3, 5]}}"#;
    std::fs::write(dir.join("space.json"), space).unwrap();
    let mut table = String::from("op,k,acc@1,acc@3,acc@9,acc,tse@1,tse@3,tse@9\n");
    for (i, op) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        for k in [3, 5] {
            let q = (i * 2 + usize::from(k == 5)) as f64 / 100.0;
            let (a1, a3, a9) = (0.3 + q, 0.5 + q, 0.7 + q);
            // A training-loss sum that ranks the other way round (smaller is better).
            let (t1, t3, t9) = (1.0 + q, 3.0 * (1.0 + q), 9.0 * (1.0 + q));
            table.push_str(&format!("{op},{k},{a1},{a3},{a9},{a9},{t1},{t3},{t9}\n"));
        }
    }
    std::fs::write(dir.join("curves.csv"), table).unwrap();
    dir.join("curves.csv")
}

#[test]
fn multi_fidelity_tuners_promote_by_budget_and_the_table_answers_each_budget() {
    for tuner in ["asha", "hyperband"] {
        let home = TempDir::new().unwrap();
        let (code, out, dir) = on_curves(home.path(), tuner, 13, 1, "");
        assert_eq!(code, 0, "{tuner}: {out}");
        let dir = dir.unwrap();
        let store = Store::open(&dir).unwrap();
        let trials = store.trials().unwrap();
        assert_eq!(trials.len(), 13, "{tuner}");
        let mut promoted = 0;
        for t in &trials {
            let budget = t
                .budget()
                .unwrap_or_else(|| panic!("{tuner}: trial {} has no budget", t.id));
            // The value is the row's column for the trial's budget, reported as `acc`;
            // no other budget's column is (a look-up must not leak the higher ones).
            let metrics = store.metrics(t.id).unwrap();
            let raw: serde_json::Value = serde_json::from_str(&metrics[0].1).unwrap();
            // The row's q, from its `tse@budget` = budget·(1 + q).
            let q = raw["tse"].as_f64().unwrap() / budget - 1.0;
            let expected = match budget as u32 {
                1 => 0.3 + q,
                3 => 0.5 + q,
                _ => 0.7 + q,
            };
            assert!(
                (t.final_metric.unwrap() - expected).abs() < 1e-9,
                "{tuner} trial {} at budget {budget}: {raw}",
                t.id
            );
            assert_eq!(raw["acc"].as_f64(), t.final_metric, "{raw}");
            assert!(
                raw.as_object().unwrap().keys().all(|k| !k.contains('@')),
                "{tuner}: a look-up at budget {budget} reported other budgets: {raw}"
            );
            if let Some(from) = t.info_json()["promoted_from"].as_u64() {
                promoted += 1;
                let parent = &trials[from as usize];
                assert_eq!(
                    parent.parameters, t.parameters,
                    "{tuner}: a promotion keeps the architecture"
                );
                assert!(parent.budget().unwrap() < budget);
            }
        }
        assert!(promoted >= 3, "{tuner}: {promoted} promotions in 13 trials");
        let (code, shown, err) = run(archon(home.path()).args(["experiment", "show"]).arg(&dir));
        assert_eq!(code, 0, "{err}");
        assert!(
            shown.contains("BUDGET") && shown.contains("PROMOTED") && shown.contains("from "),
            "{tuner}: {shown}"
        );
    }
}

/// `tuner` on the curve table with budgets 1…9 and `options`: exit code, output, and
/// the experiment's folder.
fn on_curves(
    home: &Path,
    tuner: &str,
    max_trials: u32,
    seed: u32,
    options: &str,
) -> (i32, String, Option<std::path::PathBuf>) {
    let runs = home.join("runs");
    curve_table(home);
    let cfg = home.join("experiment.toml");
    std::fs::write(
        &cfg,
        format!(
            "direction = \"maximize\"\nmax_trials = {max_trials}\nseed = {seed}\n\
             [space]\nfile = \"space.json\"\n[trial]\ntable = \"curves.csv\"\nmetric = \"acc\"\n\
             [tuner]\nname = \"{tuner}\"\noptions = {{ min_budget = 1, max_budget = 9 {options} }}\n"
        ),
    )
    .unwrap();
    let (code, out, err) = run(archon(home)
        .args(["experiment", "run"])
        .arg(&cfg)
        .arg("--runs-dir")
        .arg(&runs));
    let dir = runs.exists().then(|| only_experiment(&runs));
    (code, format!("{out}\n{err}"), dir)
}

/// Per (bracket, rung) with a promotion: the largest accuracy among the promoted and
/// the smallest among the others.
fn promoted_vs_not(store: &Store) -> Vec<(f64, f64)> {
    let trials = store.trials().unwrap();
    let parents: std::collections::HashSet<u64> = trials
        .iter()
        .filter_map(|t| t.info_json()["promoted_from"].as_u64())
        .collect();
    let mut groups: std::collections::BTreeMap<(u64, u64), (Vec<f64>, Vec<f64>)> =
        Default::default();
    for t in &trials {
        let info = t.info_json();
        let group = (
            info["bracket"].as_u64().unwrap(),
            info["rung"].as_u64().unwrap(),
        );
        let entry = groups.entry(group).or_default();
        let acc = t.final_metric.unwrap();
        if parents.contains(&t.id) {
            entry.0.push(acc);
        } else {
            entry.1.push(acc);
        }
    }
    groups
        .values()
        .filter(|(p, n)| !p.is_empty() && !n.is_empty())
        .map(|(p, n)| {
            (
                p.iter().copied().fold(f64::MIN, f64::max),
                n.iter().copied().fold(f64::MAX, f64::min),
            )
        })
        .collect()
}

/// `promote_by = "tse"`: a rung's trials are ranked by the reported training-loss sum
/// (smaller first), not by their value — here the opposite order — and a key the trials
/// do not report stops the experiment naming the option and the key.
#[test]
fn multi_fidelity_tuners_promote_by_the_key_they_are_told() {
    let home = TempDir::new().unwrap();
    let (code, out, dir) = on_curves(home.path(), "hyperband", 16, 3, ", promote_by = \"tse\"");
    assert_eq!(code, 0, "{out}");
    let groups = promoted_vs_not(&Store::open(&dir.unwrap()).unwrap());
    assert!(!groups.is_empty(), "no rung was promoted");
    for (best_promoted, worst_kept) in &groups {
        // Smallest tse = smallest accuracy here: the promoted are the least accurate.
        assert!(best_promoted < worst_kept, "{groups:?}");
    }
    let home = TempDir::new().unwrap();
    let (code, out, dir) = on_curves(home.path(), "hyperband", 16, 3, ", promote_by = \"\"");
    assert_eq!(code, 0, "{out}");
    for (best_promoted, worst_kept) in promoted_vs_not(&Store::open(&dir.unwrap()).unwrap()) {
        assert!(
            best_promoted > worst_kept,
            "by value, the most accurate go on"
        );
    }
    let home = TempDir::new().unwrap();
    let (code, out, _) = on_curves(home.path(), "hyperband", 16, 3, ", promote_by = \"speed\"");
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("promote_by = \"speed\"") && out.contains("has no such number"),
        "{out}"
    );
}

/// `[tuner.prefilter]`: the best of a proxy's ranking run first (here `params` on the
/// 3-op NAS-Bench-201 space, so the all-convolution cell, the only one with 6
/// convolutions, then two with 5), each recorded with its rank; then the tuner, which
/// never proposes them again.
#[test]
fn the_proxy_prefilter_runs_its_best_picks_first_and_the_tuner_goes_on() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let edges = [
        "edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2",
    ];
    // A row for every cell whose edges are convolutions or skips (64 rows); acc = the
    // number of convolutions / 10.
    let mut table = format!("{},acc\n", edges.join(","));
    for bits in 0..64u32 {
        let ops: Vec<&str> = (0..6)
            .map(|e| {
                if bits >> e & 1 == 1 {
                    "nor_conv_3x3"
                } else {
                    "skip_connect"
                }
            })
            .collect();
        table += &format!(
            "{},{}\n",
            ops.join(","),
            f64::from(bits.count_ones()) / 10.0
        );
    }
    std::fs::write(home.path().join("table.csv"), table).unwrap();
    let config = |prefilter: &str| {
        format!(
            "name = \"prefilter\"\ndirection = \"maximize\"\nmax_trials = 8\nseed = 3\n\
             [space]\nbuiltin = \"nas-bench-201\"\n\
             options = {{ width = 4, cells_per_stage = 1, ops = \"skip_connect,nor_conv_3x3,avg_pool_3x3\" }}\n\
             [trial]\ntable = \"table.csv\"\nmetric = \"acc\"\n\
             [tuner]\nname = \"random\"\n[tuner.prefilter]\n{prefilter}\n"
        )
    };
    let path = home.path().join("experiment.toml");
    std::fs::write(&path, config("proxy = \"params\"\nsample = 729\nkeep = 3")).unwrap();
    let (code, out, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&path)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 8);
    let convs = |parameters: &str| {
        let p: serde_json::Value = serde_json::from_str(parameters).unwrap();
        edges
            .iter()
            .filter(|e| p[**e]["_value"] == "nor_conv_3x3")
            .count()
    };
    for (t, want) in trials.iter().zip([6, 5, 5]) {
        assert_eq!(
            convs(&t.parameters),
            want,
            "trial {}: {}",
            t.id,
            t.parameters
        );
        let info: serde_json::Value =
            serde_json::from_str(t.info.as_deref().expect("a pre-filter trial has info")).unwrap();
        assert_eq!(info["prefilter"]["rank"], t.id, "{info}");
        assert_eq!(info["prefilter"]["proxy"], "params", "{info}");
    }
    assert_eq!(trials[0].final_metric, Some(0.6));
    for t in &trials[3..] {
        assert!(
            t.info.is_none(),
            "trial {} is the tuner's: {:?}",
            t.id,
            t.info
        );
    }
    let distinct: std::collections::HashSet<&str> =
        trials.iter().map(|t| t.parameters.as_str()).collect();
    assert_eq!(
        distinct.len(),
        8,
        "the tuner proposed a pre-filtered cell again"
    );
    let saved: Vec<serde_json::Value> =
        serde_json::from_str(&store.meta("prefilter").unwrap().unwrap()).unwrap();
    assert_eq!(saved.len(), 3);
    let dir = only_experiment(&runs);
    let (code, shown, err) = run(archon(home.path())
        .args(["experiment", "show", dir.to_str().unwrap()])
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{err}");
    assert!(
        shown.contains("PRE-FILTER") && shown.contains("params #1"),
        "{shown}"
    );
    assert!(!shown.contains("BUDGET"), "{shown}");

    // Bad sections are refused before anything runs, naming the key.
    for (section, needle) in [
        ("proxy = \"synflw\"", "tuner.prefilter.proxy"),
        (
            "proxy = \"synflow\"\nsample = 5\nkeep = 9",
            "tuner.prefilter.keep",
        ),
        ("proxy = \"synflow\"\nbatch = 1", "tuner.prefilter.batch"),
        ("proxy = \"synflow\"\nkep = 3", "kep"),
    ] {
        std::fs::write(&path, config(section)).unwrap();
        let (code, out, err) = run(archon(home.path())
            .args(["experiment", "run"])
            .arg(&path)
            .arg("--runs-dir")
            .arg(home.path().join("bad-runs")));
        assert_ne!(code, 0, "{section}: {out}");
        assert!(err.contains(needle), "{section}: {err}");
    }
}
