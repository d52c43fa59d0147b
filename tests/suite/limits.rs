//! `[limits]`: every one-shot trainer exports within the search's parameter limit
//! (checked against the table's own parameter counts), experiments never run a
//! tuner's proposal over the limit, and bad limits are refused naming the key.

use archon::store::{Store, TrialStatus};
use archon_tests::{archon, only_experiment, run, workspace_root};
use std::path::Path;

/// The repository's NAS-Bench-201 table (3 ops, width 4: 729 architectures): each
/// architecture's (op per edge, parameters, test accuracy of seed 0).
fn table() -> Vec<(serde_json::Map<String, serde_json::Value>, f64, f64)> {
    let text = std::fs::read_to_string(workspace_root().join("benchmarks/nb201-fmnist-3ops.jsonl"))
        .unwrap();
    text.lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["seed"] == 0)
        .map(|r| {
            let ops = r["arch"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v["_value"].clone()))
                .collect();
            let test = r["epochs"].as_array().unwrap().last().unwrap()["test"]
                .as_f64()
                .unwrap();
            (ops, r["params"].as_f64().unwrap(), test)
        })
        .collect()
}

fn median_params(rows: &[(serde_json::Map<String, serde_json::Value>, f64, f64)]) -> f64 {
    let mut p: Vec<f64> = rows.iter().map(|r| r.1).collect();
    p.sort_by(f64::total_cmp);
    p[p.len() / 2]
}

/// The table's parameters of an exported NNI architecture.
fn params_of(
    rows: &[(serde_json::Map<String, serde_json::Value>, f64, f64)],
    arch: &serde_json::Value,
) -> f64 {
    let ops: serde_json::Map<String, serde_json::Value> = arch
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["_value"].clone()))
        .collect();
    rows.iter()
        .find(|r| r.0 == ops)
        .unwrap_or_else(|| panic!("{arch} is not in the table"))
        .1
}

const SPACE: &str = r#"[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1, ops = "skip_connect,nor_conv_3x3,avg_pool_3x3" }
"#;

fn search_config(dir: &Path, algorithm: &str, options: &str, limits: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{algorithm}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = \"{algorithm}-limits\"\nseed = 1\n{SPACE}[data]\ntrain_subset = 256\n\
             [search]\nalgorithm = \"{algorithm}\"\nepochs = 1\nbatch_size = 32\n\
             steps_per_epoch = 3\ndevice = \"cpu\"\noptions = {options}\n{limits}"
        ),
    )
    .unwrap();
    path
}

#[test]
fn every_one_shot_trainer_exports_within_a_parameter_limit() {
    let rows = table();
    let limit = median_params(&rows);
    let largest = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    assert!(limit < largest);
    let tmp = tempfile::tempdir().unwrap();
    for (algorithm, options) in [
        ("darts", "{}"),
        ("gdas", "{}"),
        ("enas", "{ ctrl_steps = 2, export_samples = 3 }"),
        (
            "spos",
            "{ population = 4, select = 2, crossover = 2, mutation = 2, generations = 2, recalibrate_batches = 1, eval_batches = 1 }",
        ),
    ] {
        let config = search_config(
            tmp.path(),
            algorithm,
            options,
            &format!("[limits]\nmax_params = {limit}\n"),
        );
        let runs = tmp.path().join(format!("runs-{algorithm}"));
        let (code, out, err) = run(archon(tmp.path())
            .arg("search")
            .arg(&config)
            .arg("--runs-dir")
            .arg(&runs));
        assert_eq!(code, 0, "{algorithm}: {out}\n{err}");
        assert!(
            out.contains(&format!("within limits (max_params {limit}): ")),
            "{algorithm}: {out}"
        );
        let dir = only_experiment(&runs);
        let arch: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("architecture.json")).unwrap(),
        )
        .unwrap();
        let params = params_of(&rows, &arch);
        assert!(params <= limit, "{algorithm}: {arch} has {params} > {limit}");
        // The host's own measurement agrees with the table's count.
        let measured: serde_json::Value = serde_json::from_str(
            &Store::open(&dir)
                .unwrap()
                .meta("export_costs")
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(measured["params"].as_f64(), Some(params), "{algorithm}");
    }
}

#[test]
fn bad_limits_are_refused_by_key_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    for (limits, needle) in [
        (
            "[limits]\nmax_params = 0",
            "limits.max_params: 0 must be a finite number > 0",
        ),
        (
            "[limits]\nmax_flops = -1e6",
            "limits.max_flops: -1000000 must be",
        ),
        (
            "[limits]\nmax_latency_ms = nan",
            "limits.max_latency_ms: NaN must be",
        ),
        ("[limits]\nmax_parms = 10", "max_parms"),
    ] {
        let config = search_config(tmp.path(), "darts", "{}", limits);
        let (code, out, err) = run(archon(tmp.path())
            .arg("search")
            .arg(&config)
            .arg("--runs-dir")
            .arg(tmp.path().join("runs")));
        assert_ne!(code, 0, "{limits}: {out}");
        assert!(err.contains(needle), "{limits}: {err}");
        assert!(!out.contains("epoch"), "refused before searching: {out}");
    }
    // Limits nothing in the space fits: refused by the trainer, naming the limit.
    let config = search_config(tmp.path(), "darts", "{}", "[limits]\nmax_params = 10");
    let (code, _, err) = run(archon(tmp.path())
        .arg("search")
        .arg(&config)
        .arg("--runs-dir")
        .arg(tmp.path().join("runs")));
    assert_ne!(code, 0);
    assert!(
        err.contains("no architecture within the limits (max_params 10)"),
        "{err}"
    );
    // An experiment's limits price networks the host builds: a JSON space is refused.
    std::fs::write(
        tmp.path().join("space.json"),
        r#"{"x": {"_type": "choice", "_value": [1, 2]}}"#,
    )
    .unwrap();
    let experiment = tmp.path().join("experiment.toml");
    std::fs::write(
        &experiment,
        "direction = \"maximize\"\n[space]\nfile = \"space.json\"\n[trial]\ncommand = [\"true\"]\n\
         [tuner]\nname = \"random\"\n[limits]\nmax_params = 1000\n",
    )
    .unwrap();
    let (code, _, err) = run(archon(tmp.path())
        .args(["experiment", "create"])
        .arg(&experiment)
        .arg("--runs-dir")
        .arg(tmp.path().join("runs")));
    assert_ne!(code, 0);
    assert!(
        err.contains("limits") && err.contains("need space.builtin"),
        "{err}"
    );
}

#[test]
fn an_experiment_never_runs_a_proposal_over_its_limits() {
    let rows = table();
    let limit = median_params(&rows);
    let tmp = tempfile::tempdir().unwrap();
    // The table as trial results: one CSV row per architecture.
    let labels: Vec<String> = rows[0].0.keys().cloned().collect();
    let mut csv = format!("{},acc\n", labels.join(","));
    for (ops, _, test) in &rows {
        let values: Vec<&str> = labels.iter().map(|l| ops[l].as_str().unwrap()).collect();
        csv.push_str(&format!("{},{test}\n", values.join(",")));
    }
    std::fs::write(tmp.path().join("table.csv"), csv).unwrap();
    let config = tmp.path().join("experiment.toml");
    std::fs::write(
        &config,
        format!(
            "name = \"limited\"\ndirection = \"maximize\"\nmax_trials = 12\nseed = 2\n{SPACE}\
             [trial]\ntable = \"table.csv\"\nmetric = \"acc\"\n[tuner]\nname = \"random\"\n\
             [limits]\nmax_params = {limit}\n"
        ),
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    let (code, out, err) = run(archon(tmp.path())
        .args(["experiment", "run"])
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 12 succeeded, 0 failed"), "{out}");
    let skipped: usize = out
        .lines()
        .find_map(|l| l.strip_suffix(" proposals over the limits were not run"))
        .unwrap_or_else(|| panic!("about half the space is over the limit: {out}"))
        .parse()
        .unwrap();
    assert!(skipped > 0);
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 12);
    for t in &trials {
        assert_eq!(t.status, TrialStatus::Succeeded);
        let p: serde_json::Value = serde_json::from_str(&t.parameters).unwrap();
        let params = params_of(&rows, &p);
        assert!(
            params <= limit,
            "trial {} ran {p} with {params} > {limit}",
            t.id
        );
    }
}
