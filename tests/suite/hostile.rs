//! The hostile-input suite (issue 29): each way a user broke archon, re-run as it was
//! written, must give a clear error naming what is wrong — or the right result — and
//! no message may carry libtorch's C++ frames or Rust's debug forms.

use archon::{
    readable_error::has_internal_text,
    store::{Store, TrialStatus},
};
use archon_tests::{archon, only_experiment, run};
use std::{
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::Stdio,
};
use tempfile::TempDir;

/// Runs a command that must fail; returns its standard error, checked for internal
/// text.
fn refused(cmd: &mut std::process::Command) -> String {
    let (code, out, err) = run(cmd);
    assert_ne!(code, 0, "accepted: {out}\n{err}");
    assert!(
        !has_internal_text(&err),
        "internal text reached the user:\n{err}"
    );
    err
}

/// `archon train` of the all-convolution NB201 cell at `width` on Fashion-MNIST.
fn train(home: &Path, width: u32, extra: &[&str]) -> std::process::Command {
    let mut cmd = archon(home);
    cmd.args([
        "train",
        "--space",
        "nas-bench-201",
        "--option",
        &format!("width={width}"),
        "--option",
        "cells_per_stage=1",
        "--arch",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "--device",
        "cpu",
    ])
    .args(extra);
    cmd
}

#[test]
fn training_values_and_paths_are_refused_before_any_work_naming_the_flag() {
    let home = TempDir::new().unwrap();
    let h = home.path();
    std::fs::write(h.join("garbage.safetensors"), "not weights at all").unwrap();
    let garbage = h.join("garbage.safetensors");
    let garbage = garbage.to_str().unwrap();
    for (args, needles) in [
        (
            vec!["--train-subset", "0"],
            vec!["--train-subset", "0 examples"],
        ),
        (vec!["--test-subset", "0"], vec!["--test-subset"]),
        (vec!["--lr=-1"], vec!["--lr", "finite number > 0"]),
        (vec!["--lr", "nan"], vec!["--lr"]),
        (vec!["--epochs", "0"], vec!["--epochs", "--load"]),
        (
            vec![
                "--export",
                "torchscript",
                "--export-to",
                "missing/dir/model.pt",
            ],
            vec!["--export-to", "missing/dir does not exist"],
        ),
        (
            vec!["--save", "missing/dir/w.safetensors"],
            vec!["--save", "missing/dir does not exist"],
        ),
        (
            vec!["--load", "missing.safetensors"],
            vec!["--load", "no such file"],
        ),
        (
            vec!["--load", garbage, "--epochs", "0"],
            vec!["is not a safetensors weights file"],
        ),
    ] {
        let mut cmd = train(h, 4, &args);
        cmd.current_dir(h);
        let (code, out, err) = run(&mut cmd);
        assert_ne!(code, 0, "{args:?} accepted: {out}");
        assert!(!has_internal_text(&err), "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: no {n:?} in {err}");
        }
        if !args.contains(&garbage) {
            assert!(
                !out.contains("epoch"),
                "{args:?} trained before refusing: {out}"
            );
        }
    }
    // Weights saved at one width, loaded at another: the tensor and both shapes named.
    let weights = h.join("w4.safetensors");
    let (code, out, err) = run(&mut train(
        h,
        4,
        &[
            "--epochs",
            "1",
            "--train-subset",
            "64",
            "--test-subset",
            "64",
            "--save",
            weights.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 0, "{out}\n{err}");
    let err = refused(&mut train(
        h,
        8,
        &[
            "--load",
            weights.to_str().unwrap(),
            "--epochs",
            "0",
            "--test-subset",
            "64",
        ],
    ));
    assert!(
        err.contains("saved with other space options") && err.contains("in this child"),
        "{err}"
    );
}

/// A table experiment over `op` × `k` answered from `table` (written as `file`).
fn table_experiment(dir: &Path, file: &str, table: &str, extra: &str) -> PathBuf {
    std::fs::write(
        dir.join("space.json"),
        r#"{"op": {"_type": "layer_choice", "_value": ["conv", "pool", "a, b"]},
            "k": {"_type": "choice", "_value": [3, 5]}}"#,
    )
    .unwrap();
    std::fs::write(dir.join(file), table).unwrap();
    let path = dir.join("experiment.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"tables\"\ndirection = \"maximize\"\nmax_trials = 6\n[space]\nfile = \"space.json\"\n\
             [trial]\ntable = \"{file}\"\nmetric = \"acc\"\n[tuner]\nname = \"grid\"\n{extra}"
        ),
    )
    .unwrap();
    path
}

fn experiment(home: &Path, args: &[&str], runs: &Path) -> std::process::Command {
    let mut cmd = archon(home);
    cmd.arg("experiment").args(args).arg("--runs-dir").arg(runs);
    cmd
}

#[test]
fn tables_are_read_as_csv_and_ambiguous_ones_are_refused_naming_rows_and_columns() {
    let home = TempDir::new().unwrap();
    let h = home.path();
    let full =
        "conv,3,0.91\nconv,5,0.93\npool,3,0.80\npool,5,0.81\n\"a, b\",3,0.70\n\"a, b\",5,0.72\n";
    // Quoted commas, a byte-order mark, tabs and semicolons all read.
    for (name, text) in [
        ("quoted.csv", format!("op,k,acc\n{full}")),
        ("bom.csv", format!("\u{feff}op,k,acc\n{full}")),
        (
            "tabs.tsv",
            format!(
                "op\tk\tacc\n{}",
                full.replace(',', "\t").replace("\"a\t b\"", "a, b")
            ),
        ),
        (
            "semi.csv",
            format!(
                "op;k;acc\n{}",
                full.replace(',', ";").replace("\"a; b\"", "a, b")
            ),
        ),
    ] {
        let runs = h.join(format!("runs-{name}"));
        let config = table_experiment(h, name, &text, "");
        let (code, out, err) = run(&mut experiment(
            h,
            &["run", config.to_str().unwrap()],
            &runs,
        ));
        assert_eq!(code, 0, "{name}: {out}\n{err}");
        assert!(out.contains(": 6 succeeded, 0 failed"), "{name}: {out}");
        let store = Store::open(&only_experiment(&runs)).unwrap();
        let quoted = store
            .trials()
            .unwrap()
            .into_iter()
            .find(|t| t.parameters.contains("a, b") && t.parameters.contains("\"_value\":5"))
            .unwrap();
        assert_eq!(quoted.final_metric, Some(0.72), "{name}");
    }
    // The same architecture twice, a column twice, a JSON Lines table without the
    // metric, an objective the table lacks: refused before anything runs.
    for (file, text, extra, needles) in [
        (
            "dup.csv",
            format!("op,k,acc\n{full}conv,3,0.99\n"),
            "",
            vec!["lines 2 and 8", "the same architecture twice", "op=conv"],
        ),
        (
            "cols.csv",
            "op,k,acc,acc\nconv,3,0.9,0.8\n".to_string(),
            "",
            vec!["line 1", "\"acc\" appears twice"],
        ),
        (
            "nometric.jsonl",
            "{\"op\": \"conv\", \"k\": 3}\n".to_string(),
            "",
            vec!["no metric column \"acc\"", "none but the choice labels"],
        ),
        (
            "objectives.csv",
            format!("op,k,acc\n{full}"),
            "objectives = [{ metric = \"acc\", direction = \"maximize\" }, { metric = \"latency_ms\", direction = \"minimize\" }]\n",
            vec!["\"latency_ms\" is not a column"],
        ),
    ] {
        let config = table_experiment(h, file, &text, "");
        if !extra.is_empty() {
            let body = std::fs::read_to_string(&config).unwrap();
            std::fs::write(&config, format!("{extra}{body}")).unwrap();
        }
        let err = refused(&mut experiment(
            h,
            &["create", config.to_str().unwrap()],
            &h.join("runs-refused"),
        ));
        for n in needles {
            assert!(err.contains(n), "{file}: no {n:?} in {err}");
        }
    }
    assert!(
        !h.join("runs-refused").exists()
            || std::fs::read_dir(h.join("runs-refused"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn experiment_values_names_and_small_commands_are_checked() {
    let home = TempDir::new().unwrap();
    let h = home.path();
    let runs = h.join("runs");
    let table = "op,k,acc\nconv,3,1e308\nconv,5,0.93\npool,3,0.80\npool,5,0.81\n\"a, b\",3,0.70\n";
    let config = table_experiment(h, "t.csv", table, "");
    let body = std::fs::read_to_string(&config).unwrap();
    // Names that would leave the runs folder or read as a flag.
    for name in ["../../../tmp/x", "/tmp/x", "sub/dir", "", "-rf"] {
        let text = body.replace("name = \"tables\"", &format!("name = {name:?}"));
        std::fs::write(&config, text).unwrap();
        let err = refused(&mut experiment(
            h,
            &["create", config.to_str().unwrap()],
            &runs,
        ));
        assert!(err.contains("name"), "{name:?}: {err}");
    }
    assert!(!runs.exists() || std::fs::read_dir(&runs).unwrap().next().is_none());
    // Built-in trial values and a device this machine lacks, at create.
    for (trial, key) in [
        ("lr = -1.0", "trial.lr"),
        ("train_subset = 0", "trial.train_subset"),
        ("device = \"cuda:7\"", "trial.device"),
    ] {
        std::fs::write(
            h.join("builtin.toml"),
            format!(
                "direction = \"maximize\"\n[space]\nbuiltin = \"nas-bench-201\"\n[trial]\n{trial}\n[tuner]\nname = \"random\"\n"
            ),
        )
        .unwrap();
        let err = refused(&mut experiment(
            h,
            &["create", h.join("builtin.toml").to_str().unwrap()],
            &runs,
        ));
        assert!(err.contains(key), "{trial}: {err}");
    }
    // A finished experiment: huge metrics printed short, --top 0 refused, resume says
    // it is finished.
    std::fs::write(&config, &body).unwrap();
    let (code, out, err) = run(&mut experiment(
        h,
        &["run", config.to_str().unwrap()],
        &runs,
    ));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("with 1.0000e308"), "{out}");
    let id = only_experiment(&runs)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let (code, show, _) = run(&mut experiment(h, &["show", &id], &runs));
    assert_eq!(code, 0);
    assert!(show.contains("1.0000e308") && show.len() < 4000, "{show}");
    let err = refused(&mut experiment(h, &["export", &id, "--top", "0"], &runs));
    assert!(err.contains("--top 0"), "{err}");
    let (code, out, err) = run(&mut experiment(h, &["resume", &id], &runs));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("is finished (DONE): 6 trials, 5 succeeded, 1 failed"),
        "{out}"
    );
    // Zero-cost proxies: sizes that cannot score.
    for (args, needle) in [
        (vec!["--batch", "1", "--proxy", "params"], None),
        (
            vec!["--batch", "1", "--proxy", "jacob_cov"],
            Some("jacob_cov compares"),
        ),
        (vec!["--batch", "70000"], Some("between 1 and 4096")),
        (vec!["--sample", "0"], Some("--sample 0")),
    ] {
        let mut cmd = archon(h);
        cmd.args(["score", "--space", "nas-bench-201", "--option", "width=4"]);
        if !args.contains(&"--sample") {
            cmd.args(["--sample", "1"]);
        }
        cmd.args(&args);
        match needle {
            Some(n) => {
                let err = refused(&mut cmd);
                assert!(err.contains(n), "{args:?}: {err}");
            }
            None => {
                let (code, out, err) = run(&mut cmd);
                assert_eq!(code, 0, "{args:?}: {out}\n{err}");
            }
        }
    }
}

#[test]
fn a_closed_output_ends_printing_commands_quietly_and_never_stops_a_manager() {
    let home = TempDir::new().unwrap();
    let h = home.path();
    let runs = h.join("runs");
    let full = "op,k,acc\nconv,3,0.91\nconv,5,0.93\npool,3,0.80\npool,5,0.81\n\"a, b\",3,0.70\n\"a, b\",5,0.72\n";
    let config = table_experiment(h, "t.csv", full, "");
    // `archon experiment run X | head` with the reader gone: standard output and error
    // closed before the manager writes a line.
    let mut manager = experiment(h, &["run", config.to_str().unwrap()], &runs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(manager.stdout.take());
    drop(manager.stderr.take());
    let status = manager.wait().unwrap();
    assert!(status.success(), "the manager died of its output: {status}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    assert_eq!(store.meta("status").unwrap().as_deref(), Some("DONE"));
    let trials = store.trials().unwrap();
    assert_eq!(trials.len(), 6);
    assert!(trials.iter().all(|t| t.status == TrialStatus::Succeeded));
    // Printing commands end quietly, as `grep | head` does: by SIGPIPE, saying nothing.
    let id = only_experiment(&runs)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    for args in [
        vec!["list"],
        vec!["show", id.as_str()],
        vec!["export", id.as_str()],
    ] {
        let mut child = experiment(h, &args, &runs)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || out.status.signal() == Some(13),
            "{args:?}: {:?} {err}",
            out.status
        );
        assert!(err.is_empty(), "{args:?} complained: {err}");
    }
}

/// Runs a one-file Python trial (`trial_py`) over the NNI space `space` with the
/// experiment keys `config` (name, direction, budgets, objectives, then `[tuner]`);
/// returns (exit code, stdout, stderr) and the runs folder.
fn python_experiment(
    h: &Path,
    space: &str,
    trial_py: &str,
    config: &str,
) -> ((i32, String, String), PathBuf) {
    std::fs::write(h.join("space.json"), space).unwrap();
    std::fs::write(h.join("trial.py"), trial_py).unwrap();
    let (head, tuner) = config.split_once("[tuner]").expect("a [tuner] section");
    std::fs::write(
        h.join("experiment.toml"),
        format!(
            "{head}[space]\nfile = \"space.json\"\n[trial]\ncommand = [\"python3\", \"trial.py\"]\n[tuner]{tuner}"
        ),
    )
    .unwrap();
    let runs = h.join("runs");
    let result = run(&mut experiment(
        h,
        &["run", h.join("experiment.toml").to_str().unwrap()],
        &runs,
    ));
    (result, runs)
}

#[test]
fn parameters_of_any_size_reach_the_trial_through_a_file() {
    let home = TempDir::new().unwrap();
    let h = home.path();
    // 10,000 choices: about 0.5 MB of parameters, past Linux's 128 KiB per variable.
    let space: serde_json::Map<String, serde_json::Value> = (0..10_000)
        .map(|i| {
            (
                format!("layer_{i:05}"),
                serde_json::json!({"_type": "choice", "_value": ["conv3x3", "conv5x5"]}),
            )
        })
        .collect();
    let ((code, out, err), runs) = python_experiment(
        h,
        &serde_json::Value::Object(space).to_string(),
        "import json, os\n\
         assert 'ARCHON_PARAMETERS' not in os.environ\n\
         p = json.load(open(os.environ['ARCHON_PARAMETERS_FILE']))\n\
         print('ARCHON_METRIC', json.dumps({'default': len(p) / 10000}))\n",
        "name = \"wide\"\ndirection = \"maximize\"\nmax_trials = 1\n[tuner]\nname = \"random\"\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let store = Store::open(&only_experiment(&runs)).unwrap();
    let trials = store.trials().unwrap();
    assert_eq!(trials[0].status, TrialStatus::Succeeded, "{:?}", trials[0]);
    assert_eq!(trials[0].final_metric, Some(1.0));
    assert!(trials[0].parameters.len() > 128 * 1024);
}

#[test]
fn a_uniform_over_the_whole_double_range_is_searched_and_a_missing_objective_is_reported() {
    let home = TempDir::new().unwrap();
    let h = home.path();
    let ((code, out, err), runs) = python_experiment(
        h,
        r#"{"x": {"_type": "uniform", "_value": [-1.7e308, 1.7e308]}}"#,
        "print('ARCHON_METRIC {\"default\": 0.5}')\n",
        "name = \"huge\"\ndirection = \"maximize\"\nmax_trials = 5\n\
         objectives = [{ metric = \"default\", direction = \"maximize\" }, { metric = \"latency_ms\", direction = \"minimize\" }]\n\
         [tuner]\nname = \"random\"\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(": 5 succeeded, 0 failed"),
        "not exhausted after one: {out}"
    );
    assert!(
        err.contains("warning: 5 succeeded trials reported no value for an objective")
            && err.contains("\"latency_ms\""),
        "{err}"
    );
    let dir = only_experiment(&runs);
    let store = Store::open(&dir).unwrap();
    let xs: std::collections::HashSet<String> = store
        .trials()
        .unwrap()
        .iter()
        .map(|t| t.parameters.clone())
        .collect();
    assert_eq!(xs.len(), 5, "{xs:?}");
    assert!(
        xs.iter().all(|p| !p.contains("inf") && !p.contains("null")),
        "{xs:?}"
    );
    let id = dir.file_name().unwrap().to_string_lossy().into_owned();
    let (code, show, _) = run(&mut experiment(h, &["show", &id], &runs));
    assert_eq!(code, 0);
    assert!(
        show.contains("none of 5 succeeded trials reported every objective")
            && !show.contains("inf"),
        "{show}"
    );
    let (code, json, _) = run(&mut experiment(
        h,
        &["export", &id, "--format", "json"],
        &runs,
    ));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        v["reference"].is_null() && v["missing"].as_array().unwrap().len() == 5,
        "{v}"
    );
}
