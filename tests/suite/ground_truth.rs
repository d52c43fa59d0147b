//! `archon bench ground-truth`, `bench table`, `bench quality` and `bench rank` on tiny budgets:
//! tables resume after kill -9 without losing or repeating a training, refuse a
//! different budget by name, and quality judges a real search by the table.

use archon_tests::{archon, run};
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

/// The reduced NAS-Bench-201 space of these tests: 2 ops, 64 architectures, tiny.
const SPACE: [&str; 8] = [
    "--space",
    "nas-bench-201",
    "--option",
    "width=4",
    "--option",
    "cells_per_stage=1",
    "--option",
    "ops=skip_connect,nor_conv_3x3",
];

fn ground_truth(home: &Path, out: &Path, extra: &[&str]) -> std::process::Command {
    let mut cmd = archon(home);
    cmd.args(["bench", "ground-truth"])
        .args(SPACE)
        .args([
            "--train-subset",
            "128",
            "--valid-subset",
            "64",
            "--test-subset",
            "64",
        ])
        .args(["--epochs", "1", "--workers", "2", "--out"])
        .arg(out)
        .args(extra);
    cmd
}

fn rows(table: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(table)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn keys(rows: &[serde_json::Value]) -> Vec<(String, u64)> {
    let mut k: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["seed"].as_u64().unwrap(),
            )
        })
        .collect();
    k.sort();
    k
}

#[test]
fn a_ground_truth_table_survives_kill_9_and_resumes_without_repeating() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("tables/gt.jsonl");
    let args = ["--sample", "6", "--seeds", "0,1"];
    let mut child = ground_truth(home.path(), &out, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill the parent (and so its workers' input) once some trainings are recorded.
    let deadline = Instant::now() + Duration::from_secs(300);
    // Count whole lines only: the table may be mid-append.
    let finished = |out: &Path| {
        std::fs::read_to_string(out).map_or(0, |t| t.matches('\n').count().saturating_sub(1))
    };
    while finished(&out) < 2 {
        assert!(Instant::now() < deadline, "no training recorded in 300 s");
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait().unwrap();
    let before = rows(&out);
    assert!(!before.is_empty());
    let (code, stdout, stderr) = run(&mut ground_truth(home.path(), &out, &args));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("{} already in", before.len())),
        "{stdout}"
    );
    let after = rows(&out);
    // Every (architecture, seed) exactly once, the rows recorded before the kill kept.
    assert_eq!(after.len(), 12, "{stdout}");
    let mut unique = keys(&after);
    unique.dedup();
    assert_eq!(unique.len(), 12);
    assert_eq!(&after[..before.len()], &before[..]);
    for row in &after {
        let epochs = row["epochs"].as_array().unwrap();
        assert_eq!(epochs.len(), 1);
        for key in ["valid", "test"] {
            let a = epochs[0][key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&a), "{row}");
        }
        assert!(row["params"].as_u64().unwrap() > 0);
        // The architecture is NNI-format parameters of the reduced space.
        assert!(
            row["arch"]["edge_1_0"]["_idx"].as_u64().unwrap() < 2,
            "{row}"
        );
    }
    // The all-skip cell is the one parameter-free architecture of this space.
    for row in &after {
        let all_skip = row["key"].as_str().unwrap().matches("skip_connect").count() == 6;
        assert_eq!(row["param_free"].as_bool().unwrap(), all_skip, "{row}");
    }
    // Done: a rerun trains nothing.
    let (code, stdout, _) = run(&mut ground_truth(home.path(), &out, &args));
    assert_eq!(code, 0);
    assert!(stdout.contains("12 already in"), "{stdout}");
    assert_eq!(rows(&out).len(), 12);

    // Another budget into the same file is refused, naming what differs and how the
    // table was made; the file is untouched.
    let mut other = ground_truth(home.path(), &out, &args);
    other.args(["--lr", "0.1"]);
    let (code, _, stderr) = run(&mut other);
    assert_ne!(code, 0);
    assert!(stderr.contains("was made for the budget"), "{stderr}");
    assert!(
        stderr.contains("\"lr\":0.05") && stderr.contains("\"lr\":0.1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("archon bench ground-truth --space nas-bench-201"),
        "{stderr}"
    );
    assert_eq!(rows(&out).len(), 12);

    // The summary: both seeds ranked against each other over all 6 architectures.
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["bench", "table", "--json"])
        .arg(&out)
        .arg("--against")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["architectures"], 6);
    assert_eq!(summary["seed_agreement"][0]["count"], 6);
    // One epoch: seed 0's validation accuracy and tse after it, against seed 1's final.
    let fidelities = summary["fidelities"].as_array().unwrap();
    assert_eq!(fidelities.len(), 1, "{summary}");
    assert_eq!(fidelities[0][0], 1);
    assert_eq!(fidelities[0][1]["count"], 6);
    assert_eq!(fidelities[0][2]["what"], "tse after 1");
    // A table against itself agrees perfectly.
    assert_eq!(summary["against"]["spearman"], 1.0);
    assert_eq!(summary["against"]["count"], 6);
}

#[test]
fn ground_truth_refuses_bad_requests_by_name() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("gt.jsonl");
    for (extra, needle) in [
        (
            vec!["--seeds", "0"],
            "give --all, --sample K or --archs-from TABLE",
        ),
        (
            vec!["--sample", "2", "--data-dir", "/nowhere/fmnist"],
            "/nowhere/fmnist",
        ),
        (vec!["--sample", "2", "--seeds", ""], "--seeds"),
    ] {
        let (code, _, stderr) = run(&mut ground_truth(home.path(), &out, &extra));
        assert_ne!(code, 0);
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
    }
    let (code, _, stderr) = run(archon(home.path())
        .args([
            "bench",
            "ground-truth",
            "--space",
            "darts",
            "--all",
            "--out",
        ])
        .arg(&out));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("--all: space darts has") && stderr.contains("use --sample K"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written for a refused request");
    std::fs::write(&out, "{\"not\": \"a table\"}\n").unwrap();
    let (code, _, stderr) = run(&mut ground_truth(home.path(), &out, &["--sample", "2"]));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("line 1: not a ground-truth table header"),
        "{stderr}"
    );
}

/// A complete table of the 64-architecture space, one seed.
fn complete_table(home: &Path) -> PathBuf {
    let out = home.join("complete.jsonl");
    let (code, stdout, stderr) = run(&mut ground_truth(home, &out, &["--all", "--seeds", "0"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(rows(&out).len(), 64);
    out
}

#[test]
fn quality_judges_each_search_by_the_table() {
    let home = tempfile::tempdir().unwrap();
    let table = complete_table(home.path());
    let config = home.path().join("search.toml");
    std::fs::write(
        &config,
        r#"name = "q"
seed = 5
[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1, ops = "skip_connect,nor_conv_3x3" }
[data]
train_subset = 256
[search]
algorithm = "darts"
epochs = 1
batch_size = 32
steps_per_epoch = 3
device = "cpu"
"#,
    )
    .unwrap();
    let runs = home.path().join("runs");
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["bench", "quality"])
        .arg(&config)
        .arg("--table")
        .arg(&table)
        .args(["--seeds", "2", "--rank-archs", "16", "--json", "--runs-dir"])
        .arg(&runs));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let seeds = report["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 2);
    assert_eq!(
        (seeds[0]["seed"].as_u64(), seeds[1]["seed"].as_u64()),
        (Some(5), Some(6))
    );
    // The percentile is the architecture's place among the table's 64 (recomputed here).
    let tests: Vec<(String, f64)> = rows(&table)
        .iter()
        .map(|r| {
            let e = r["epochs"].as_array().unwrap();
            (
                r["key"].as_str().unwrap().to_string(),
                e[0]["test"].as_f64().unwrap(),
            )
        })
        .collect();
    for s in seeds {
        let key = s["architecture"].as_str().unwrap();
        assert_eq!(
            s["in_table"], true,
            "a complete table holds every architecture"
        );
        let test = tests.iter().find(|(k, _)| k == key).unwrap().1;
        assert_eq!(s["test"].as_f64().unwrap(), test);
        let below = tests.iter().filter(|(_, t)| *t < test).count() as f64;
        let equal = tests.iter().filter(|(_, t)| *t == test).count() as f64;
        let expected = 100.0 * (below + equal / 2.0) / 64.0;
        assert!(
            (s["percentile"].as_f64().unwrap() - expected).abs() < 1e-9,
            "{s}"
        );
        assert!(s["random"]["trials"].as_u64().unwrap() >= 1);
        let ranking = &s["ranking"];
        assert_eq!(ranking["architectures"], 16, "{s}");
        let tau = ranking["kendall"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&tau));
        // Every estimate is an accuracy.
        for p in ranking["points"].as_array().unwrap() {
            assert!((0.0..=1.0).contains(&p[1].as_f64().unwrap()), "{p}");
        }
    }
    // τ by validation loss is summarised over the seeds like τ by accuracy.
    let by_loss: Vec<f64> = seeds
        .iter()
        .map(|s| s["ranking"]["kendall_by_loss"].as_f64().unwrap())
        .collect();
    let mean = by_loss.iter().sum::<f64>() / by_loss.len() as f64;
    assert!(
        (report["kendall_by_loss"]["mean"].as_f64().unwrap() - mean).abs() < 1e-9,
        "{}",
        report["kendall_by_loss"]
    );
    // Each search is an experiment of its own, with its supernet saved for ranking,
    // and `bench table --lookup` places its architecture as quality did.
    let dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|d| d.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 2);
    for dir in &dirs {
        assert!(dir.join("supernet.safetensors").is_file());
        let (code, stdout, stderr) = run(archon(home.path())
            .args(["bench", "table", "--json"])
            .arg(&table)
            .arg("--lookup")
            .arg(dir.join("architecture.json")));
        assert_eq!(code, 0, "{stderr}");
        let found: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let judged = seeds
            .iter()
            .find(|s| s["architecture"] == found["key"])
            .expect("the looked-up architecture is one quality judged");
        assert_eq!(found["percentile"], judged["percentile"]);
        assert_eq!(found["architectures"], 64);
        // `bench rank` re-ranks the saved supernet: the same sample and settings give
        // the same estimates as quality's.
        let (code, stdout, stderr) = run(archon(home.path())
            .args(["bench", "rank", "--json", "--archs", "16", "--sample-seed"])
            .arg(judged["seed"].to_string())
            .arg(dir)
            .arg("--table")
            .arg(&table));
        assert_eq!(code, 0, "{stderr}");
        let ranked: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(ranked["points"], judged["ranking"]["points"]);
    }
    // Fine-tuned estimates restore the supernet after each architecture: ranked in two
    // different orders, every architecture gets the same estimate.
    let by_key = |sample_seed: &str| {
        let (code, stdout, stderr) = run(archon(home.path())
            .args([
                "bench",
                "rank",
                "--json",
                "--archs",
                "64",
                "--finetune-steps",
                "3",
            ])
            .args(["--finetune-lr", "0.1", "--sample-seed", sample_seed])
            .arg(&dirs[0])
            .arg("--table")
            .arg(&table));
        assert_eq!(code, 0, "{stderr}");
        let ranked: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(ranked["settings"]["finetune_steps"], 3);
        let mut points: Vec<(String, f64)> = ranked["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_f64().unwrap()))
            .collect();
        let order: Vec<String> = points.iter().map(|p| p.0.clone()).collect();
        points.sort_by(|a, b| a.0.cmp(&b.0));
        (order, points)
    };
    let (order_a, a) = by_key("1");
    let (order_b, b) = by_key("2");
    assert_ne!(order_a, order_b);
    assert_eq!(a, b);
    // A folder without a saved supernet is refused, naming the file.
    let (code, _, stderr) = run(archon(home.path())
        .args(["bench", "rank"])
        .arg(home.path())
        .arg("--table")
        .arg(&table));
    assert_ne!(code, 0);
    assert!(stderr.contains("no supernet.safetensors"), "{stderr}");

    // A config of another space is refused, naming both.
    let other = home.path().join("other.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("width = 4", "width = 8");
    std::fs::write(&other, text).unwrap();
    let (code, _, stderr) = run(archon(home.path())
        .args(["bench", "quality"])
        .arg(&other)
        .arg("--table")
        .arg(&table)
        .arg("--runs-dir")
        .arg(&runs));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("\"width\":8") && stderr.contains("\"width\":4"),
        "{stderr}"
    );
    // An option that changes only how the supernet trains (batch-norm affinity) still
    // searches the table's architectures: accepted, and the supernet built with it.
    let affine = home.path().join("affine.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "ops = \"skip_connect,nor_conv_3x3\" }",
        "ops = \"skip_connect,nor_conv_3x3\", affine = false }",
    );
    assert!(text.contains("affine = false"));
    std::fs::write(&affine, text).unwrap();
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["bench", "quality"])
        .arg(&affine)
        .arg("--table")
        .arg(&table)
        .args(["--seeds", "1", "--rank-archs", "4", "--json", "--runs-dir"])
        .arg(home.path().join("affine-runs")));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["seeds"][0]["ranking"]["architectures"], 4,
        "{report}"
    );

    // Under a parameter limit at the table's median, the search exports within it and
    // is ranked among the architectures that fit.
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["bench", "quality"])
        .arg(&config)
        .arg("--table")
        .arg(&table)
        .args([
            "--seeds",
            "1",
            "--rank-archs",
            "0",
            "--max-params",
            "median",
        ])
        .args(["--json", "--runs-dir"])
        .arg(home.path().join("limited-runs")));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let all = rows(&table);
    let mut params: Vec<f64> = all.iter().map(|r| r["params"].as_f64().unwrap()).collect();
    params.sort_by(f64::total_cmp);
    let median = (params[31] + params[32]) / 2.0;
    assert_eq!(report["limits"]["max_params"].as_f64(), Some(median));
    let fitting: Vec<&serde_json::Value> = all
        .iter()
        .filter(|r| r["params"].as_f64().unwrap() <= median)
        .collect();
    assert!(
        fitting.len() < 64,
        "the largest architectures break the limit"
    );
    assert_eq!(report["within_architectures"], fitting.len());
    let seed = &report["seeds"][0];
    let key = seed["architecture"].as_str().unwrap();
    let exported = all.iter().find(|r| r["key"] == key).unwrap();
    assert!(
        exported["params"].as_f64().unwrap() <= median,
        "{key} exceeds the limit {median}"
    );
    assert_eq!(seed["within_limits"]["fits"], true);
    let test = seed["test"].as_f64().unwrap();
    let tests: Vec<f64> = fitting
        .iter()
        .map(|r| r["epochs"][0]["test"].as_f64().unwrap())
        .collect();
    let below = tests.iter().filter(|&&t| t < test).count() as f64;
    let equal = tests.iter().filter(|&&t| t == test).count() as f64;
    let expected = 100.0 * (below + equal / 2.0) / tests.len() as f64;
    let within = seed["within_limits"]["percentile"].as_f64().unwrap();
    assert!((within - expected).abs() < 1e-9, "{within} vs {expected}");
    // The experiment records the limit it ran under.
    let dir = std::fs::read_dir(home.path().join("limited-runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let recorded = archon::store::Store::open(&dir)
        .unwrap()
        .meta("config")
        .unwrap()
        .unwrap_or_default();
    assert!(recorded.contains("[limits]"), "{recorded}");
    // A limit that is neither a number nor `median` is refused by the flag.
    let (code, _, stderr) = run(archon(home.path())
        .args(["bench", "quality"])
        .arg(&config)
        .arg("--table")
        .arg(&table)
        .args(["--max-params=-5"]));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("--max-params") && stderr.contains("median"),
        "{stderr}"
    );
}

#[test]
fn score_compares_every_proxy_with_the_table() {
    let home = tempfile::tempdir().unwrap();
    let table = complete_table(home.path());
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["score", "--json", "--batch", "32", "--table"])
        .arg(&table));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["architectures"].as_array().unwrap().len(), 64);
    let agreement = report["agreement"].as_array().unwrap();
    let names: Vec<&str> = agreement
        .iter()
        .map(|a| a["proxy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "params",
            "flops",
            "grad_norm",
            "snip",
            "synflow",
            "jacob_cov",
            "naswot",
            "fisher"
        ]
    );
    for a in agreement {
        let rho = a["spearman"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&rho), "{a}");
    }
    // The params baseline is the table's own parameters-vs-test agreement.
    let (code, summary, stderr) = run(archon(home.path())
        .args(["bench", "table", "--json"])
        .arg(&table));
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let table_rho = summary["params_vs_test"]["spearman"].as_f64().unwrap();
    assert!((agreement[0]["spearman"].as_f64().unwrap() - table_rho).abs() < 1e-9);
    // Scores of a space's sampled architectures, one line each; unknown proxies are
    // refused naming the known ones.
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["score", "--space", "nas-bench-201", "--option", "width=4"])
        .args([
            "--option",
            "cells_per_stage=1",
            "--sample",
            "3",
            "--proxy",
            "synflow,params",
        ]));
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains("synflow")).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('|') && l.contains("params")),
        "{stdout}"
    );
    let (code, _, stderr) = run(archon(home.path())
        .args(["score", "--table"])
        .arg(&table)
        .args(["--proxy", "zen"]));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("zen") && stderr.contains("jacob_cov"),
        "{stderr}"
    );
    // An empty minibatch is refused by name, not a panic.
    let (code, _, stderr) = run(archon(home.path())
        .args(["score", "--batch", "0", "--table"])
        .arg(&table));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--batch 0"), "{stderr}");
}

#[test]
fn bench_tuners_runs_tuners_on_the_table_by_look_up() {
    let home = tempfile::tempdir().unwrap();
    let table = complete_table(home.path());
    let tuners = |list: &str, trials: &str| {
        let (code, stdout, stderr) = run(archon(home.path())
            .args([
                "bench", "tuners", "--json", "--seeds", "2", "--tuners", list,
            ])
            .args(["--trials", trials, "--metric", "test", "--table"])
            .arg(&table));
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    // Grid search through all 64 architectures finds the table's optimum every time.
    let svg = home.path().join("tuners.svg");
    let (code, _, stderr) = run(archon(home.path())
        .args(["bench", "tuners", "--seeds", "1", "--tuners", "grid,random"])
        .args(["--trials", "8", "--table"])
        .arg(&table)
        .arg("--svg")
        .arg(&svg));
    assert_eq!(code, 0, "{stderr}");
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(
        drawn.starts_with("<svg") && drawn.contains(">grid<") && drawn.contains(">random<"),
        "{drawn}"
    );
    let report = tuners("grid", "64");
    let optimum = report["optimum"].as_f64().unwrap();
    let grid = &report["tuners"][0];
    assert_eq!(grid["tuner"], "grid");
    assert_eq!(grid["best"], serde_json::json!([optimum, optimum]));
    assert_eq!(grid["regret"].as_f64(), Some(0.0));
    assert_eq!(grid["unanswered"], 0);
    // Random search with 6 trials: at most the optimum, best-so-far never falls.
    let report = tuners("random", "6");
    let random = &report["tuners"][0];
    for b in random["best"].as_array().unwrap() {
        assert!(b.as_f64().unwrap() <= optimum);
    }
    let curve: Vec<f64> = random["curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .collect();
    assert!(curve.windows(2).all(|w| w[0] <= w[1]), "{curve:?}");
    // A multi-fidelity tuner runs at equal cost (budgets from the table's epochs).
    let report = tuners("random,hyperband", "6");
    let (random, hyperband) = (&report["tuners"][0], &report["tuners"][1]);
    assert_eq!(random["multi_fidelity"], false);
    assert_eq!(hyperband["multi_fidelity"], true);
    let epochs = 1.0;
    assert_eq!(random["cost"].as_f64(), Some(6.0 * epochs));
    assert!(hyperband["cost"].as_f64().unwrap() <= 6.0 * epochs);
}

#[test]
fn bench_final_trains_the_found_network_beside_the_baselines() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("final.toml");
    std::fs::write(
        &config,
        r#"name = "f"
seed = 2
[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1, ops = "skip_connect,nor_conv_3x3,avg_pool_3x3" }
[data]
train_subset = 256
test_subset = 500
[search]
algorithm = "darts"
epochs = 1
batch_size = 32
steps_per_epoch = 3
device = "cpu"
[retrain]
epochs = 1
lr = 0.05
train_subset = 300
holdout = 50
recipe = "final"
"#,
    )
    .unwrap();
    // The repository's complete table of this space (729 architectures).
    let table = archon_tests::workspace_root().join("benchmarks/nb201-fmnist-3ops.jsonl");
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["bench", "final"])
        .arg(&config)
        .arg("--table")
        .arg(&table)
        .args(["--seeds", "1", "--json", "--runs-dir"])
        .arg(home.path().join("runs")));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let trials = report["trials"][0][1].as_array().unwrap();
    assert_eq!(report["trials"][0][0], 2, "the config's seed");
    let who: Vec<&str> = trials.iter().map(|t| t["who"].as_str().unwrap()).collect();
    assert_eq!(who, ["found", "largest", "random", "resnet"]);
    let params = |i: usize| trials[i]["params"].as_u64().unwrap();
    // The limit is the found network's size, which itself fits: the largest within it
    // has exactly that many parameters.
    assert_eq!(params(1), params(0), "{report}");
    let ratio = params(3) as f64 / params(0) as f64;
    assert!(
        (0.5..2.0).contains(&ratio),
        "ResNet sized like the network: {report}"
    );
    assert_eq!(trials[3]["architecture"]["resnet"]["blocks"], 3);
    // Random search's pick is an architecture of the space, chosen in the search's time.
    assert_eq!(trials[2]["architecture"].as_object().unwrap().len(), 6);
    assert!(trials[2]["choose_seconds"].as_f64().unwrap() > 0.0);
    for t in trials {
        let test = t["test"].as_f64().unwrap();
        assert!(test > 0.0 && test <= 1.0, "{t}");
        assert!(t["train_seconds"].as_f64().unwrap() > 0.0, "{t}");
    }
    let summary = report["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 4);
    assert!(summary.iter().all(|s| s["seeds"] == 1));
    // Bad requests are refused before anything runs.
    let (code, _, stderr) = run(archon(home.path())
        .args(["bench", "final"])
        .arg(&config)
        .args(["--seeds", "0"]));
    assert_ne!(code, 0);
    assert!(stderr.contains("--seeds: 0 runs nothing"), "{stderr}");
}

#[test]
fn bench_tuners_runs_test_functions_and_sums_up_several_problems() {
    let home = tempfile::tempdir().unwrap();
    let table = complete_table(home.path());
    let (code, stdout, stderr) = run(archon(home.path())
        .args([
            "bench", "tuners", "--json", "--seeds", "2", "--trials", "12",
        ])
        .args(["--tuners", "random,local_search"])
        .arg("--table")
        .arg(format!("fn:branin,{}", table.display())));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let branin = &report["problems"][0];
    assert_eq!(branin["table"], "fn:branin");
    // The value is −f: never above −f* = −0.397887.
    assert!((branin["optimum"].as_f64().unwrap() + 0.397887).abs() < 1e-5);
    for t in branin["tuners"].as_array().unwrap() {
        assert_eq!(t["unanswered"], 0, "{t}");
        for b in t["best"].as_array().unwrap() {
            let b = b.as_f64().unwrap();
            assert!(b <= -0.397887 && b > -400.0, "{b}");
        }
    }
    let summary = &report["summary"];
    assert_eq!(summary["problems"][1], table.display().to_string());
    let rows = summary["tuners"].as_array().unwrap();
    assert_eq!(rows[0]["tuner"], "random");
    assert_eq!(rows[0]["gains"], serde_json::json!([0.0, 0.0]));
    assert_eq!(rows[1]["ranks"].as_array().unwrap().len(), 2);
    // The text summary names both problems.
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["bench", "tuners", "--seeds", "1", "--trials", "5"])
        .args(["--tuners", "random,gp", "--table", "fn:hartmann3,fn:branin"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("Gain over random search") && stdout.contains("fn:hartmann3"),
        "{stdout}"
    );
    // Refusals name what is wrong.
    let (code, _, stderr) =
        run(archon(home.path()).args(["bench", "tuners", "--table", "fn:nope"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("\"nope\" is not a built-in test function"),
        "{stderr}"
    );
    let (code, _, stderr) = run(archon(home.path()).args([
        "bench",
        "tuners",
        "--tuners",
        "hyperband",
        "--table",
        "fn:branin",
    ]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("multi-fidelity tuners need budgets"),
        "{stderr}"
    );
}

#[test]
fn an_experiment_answered_by_a_test_function_and_its_refusals() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("f.toml");
    let write = |trial: &str, space: &str| {
        std::fs::write(
            &config,
            format!(
                "name = \"f\"\ndirection = \"maximize\"\nmax_trials = 6\nseed = 1\n[space]\n{space}\n[trial]\n{trial}\n[tuner]\nname = \"random\"\n"
            ),
        )
        .unwrap();
    };
    let space = r#"json = '{"x0": {"_type": "uniform", "_value": [-5, 10]}, "x1": {"_type": "quniform", "_value": [0, 15, 1]}}'"#;
    write(r#"function = "branin""#, space);
    let runs = home.path().join("runs");
    let (code, stdout, stderr) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let dir = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let store = archon::store::Store::open(&dir).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 6);
    for t in &trials {
        assert_eq!(t.status, archon::store::TrialStatus::Succeeded, "{t:?}");
        // The value is −branin: at most −0.397887; `loss` is reported beside it.
        assert!(t.final_metric.unwrap() <= -0.397887, "{t:?}");
        let raw = store.final_metric_raw(t.id).unwrap().unwrap();
        assert!(raw.contains("\"loss\""), "{raw}");
    }
    for (trial, words) in [
        (
            r#"function = "nope""#,
            "\"nope\" is not a built-in test function",
        ),
        (
            "function = \"branin\"\ncommand = [\"true\"]",
            "a test function answers trials by itself: remove trial.command",
        ),
    ] {
        write(trial, space);
        let (code, _, stderr) = run(archon(home.path())
            .args(["experiment", "create"])
            .arg(&config));
        assert_eq!(code, 1, "{trial}");
        assert!(
            stderr.contains(words) && stderr.contains("trial.function"),
            "{trial}: {stderr}"
        );
    }
    write(r#"function = "hartmann3""#, space);
    let (code, _, stderr) = run(archon(home.path())
        .args(["experiment", "create"])
        .arg(&config));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("trial.function \"hartmann3\" takes x0, x1, x2; the space has no \"x2\""),
        "{stderr}"
    );
}
