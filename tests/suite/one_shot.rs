//! One-shot trainers: behaviour on the toy supernet (a known best architecture),
//! through the real built libraries, and `archon search` end to end.

use archon::plugins::load;
use archon_plugin_api::{
    conformance::{toy_search, ToyRun},
    one_shot::Report,
    OneShotClient,
};
use archon_tests::{archon, library, run, spawn_search, tiny_darts_search, wait_for_experiment};

fn search(plugin: &str, options: &str, epochs: usize, steps: usize, seed: u64) -> ToyRun {
    let loaded = load(&library(plugin)).unwrap_or_else(|e| panic!("{e}"));
    let new_trainer = loaded.module().new_one_shot_trainer().unwrap();
    toy_search(
        &|o: &str| {
            new_trainer(o.into())
                .into_result()
                .map(OneShotClient::from_box)
        },
        options,
        (epochs, steps),
        seed,
    )
    .unwrap_or_else(|e| panic!("{plugin}: {e}"))
}

fn last_weights(run: &ToyRun, label: &str) -> Vec<f64> {
    run.host
        .reports
        .iter()
        .rev()
        .find_map(|r| match r {
            Report::Epoch { arch_weights, .. } => arch_weights.get(label).cloned(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no weights for {label}"))
}

/// Runs `plugin` on 3 seeds; each must export the known best toy architecture
/// (`input = x`, `op = square`) and put most of `op`'s weight on `square`.
fn finds_the_best(plugin: &str, options: &str, epochs: usize) {
    for seed in 1..=3 {
        let run = search(plugin, options, epochs, 16, seed);
        let best = run
            .host
            .best()
            .unwrap()
            .to_json(&run.host.search_space().unwrap());
        assert_eq!(run.exported, best, "{plugin} {options} seed {seed}");
        let op = last_weights(&run, "op");
        assert!(
            op[2] > op[0] && op[2] > op[1],
            "{plugin} seed {seed}: op weights {op:?}"
        );
    }
}

#[test]
fn darts_first_order_finds_the_best_toy_architecture() {
    finds_the_best("archon-darts", r#"{"order": 1, "arch_lr": 0.01}"#, 16);
}

#[test]
fn pcdarts_finds_the_best_toy_architecture() {
    finds_the_best("archon-pcdarts", r#"{"partial_channels": 2}"#, 8);
}

#[test]
fn darts_second_order_finds_the_best_toy_architecture() {
    finds_the_best("archon-darts", r#"{"order": 2, "arch_lr": 0.01}"#, 16);
    // The paper's exact Algorithm 1: a fresh weight gradient after the α step.
    finds_the_best(
        "archon-darts",
        r#"{"order": 2, "arch_lr": 0.01, "reuse_gradient": false}"#,
        16,
    );
}

#[test]
fn gdas_finds_the_best_toy_architecture() {
    finds_the_best("archon-gdas", r#"{"arch_lr": 0.03, "tau_max": 2}"#, 24);
}

#[test]
fn pdarts_finds_the_best_toy_architecture() {
    finds_the_best(
        "archon-pdarts",
        r#"{"arch_lr": 0.01, "keep": [2, 1], "warmup_fraction": 0.25}"#,
        18,
    );
}

#[test]
fn cdarts_finds_the_best_toy_architecture() {
    finds_the_best(
        "archon-cdarts",
        r#"{"arch_lr": 0.01, "warmup_epochs": 4}"#,
        20,
    );
}

#[test]
fn second_order_updates_differ_from_first_order() {
    let first = search("archon-darts", r#"{"order": 1, "arch_lr": 0.01}"#, 1, 8, 5);
    let second = search("archon-darts", r#"{"order": 2, "arch_lr": 0.01}"#, 1, 8, 5);
    let (a, b) = (last_weights(&first, "op"), last_weights(&second, "op"));
    assert!(a.iter().chain(&b).all(|x| x.is_finite()), "{a:?} {b:?}");
    assert!(
        a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-6),
        "second order made the same updates as first order: {a:?}"
    );
    // Reusing the virtual step's gradient for the weight step is an approximation:
    // the exact algorithm (a fresh gradient after α moved) updates differently.
    let exact = search(
        "archon-darts",
        r#"{"order": 2, "arch_lr": 0.01, "reuse_gradient": false}"#,
        1,
        8,
        5,
    );
    let c = last_weights(&exact, "op");
    assert!(c.iter().all(|x| x.is_finite()), "{c:?}");
    assert!(
        b.iter().zip(&c).any(|(x, y)| (x - y).abs() > 1e-9),
        "reuse_gradient made no difference: {b:?} {c:?}"
    );
}

#[test]
fn pdarts_restricts_candidates_in_later_stages() {
    // keep 1 after the first stage: the op decision has one candidate left, so its
    // reported weights are one-hot.
    let run = search(
        "archon-pdarts",
        r#"{"arch_lr": 0.01, "keep": [1], "cells": [1, 2], "warmup_fraction": 0}"#,
        2,
        8,
        2,
    );
    let op = last_weights(&run, "op");
    assert_eq!(op.iter().filter(|&&p| p > 0.0).count(), 1, "{op:?}");
    let stages: Vec<f64> = run
        .host
        .reports
        .iter()
        .filter_map(|r| match r {
            Report::Epoch { metrics, .. } => metrics.get("stage").copied(),
            _ => None,
        })
        .collect();
    assert_eq!(stages, [0.0, 1.0]);
}

#[test]
fn bad_options_name_the_option() {
    for (plugin, options, needle) in [
        ("archon-darts", r#"{"order": 3}"#, "order"),
        ("archon-gdas", r#"{"tau_min": 0}"#, "tau"),
        ("archon-pdarts", r#"{"keep": "five"}"#, "keep"),
        ("archon-cdarts", r#"{"temperature": -1}"#, "temperature"),
        ("archon-darts", r#"{"learning_rate": 1}"#, "learning_rate"),
    ] {
        let loaded = load(&library(plugin)).unwrap();
        let new_trainer = loaded.module().new_one_shot_trainer().unwrap();
        let err = match new_trainer(options.into()).into_result() {
            Ok(_) => panic!("{plugin} accepted {options}"),
            Err(e) => e,
        };
        assert!(err.message().contains(needle), "{plugin} {options}: {err}");
    }
}

fn write_config(dir: &std::path::Path, algorithm: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{algorithm}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"name = "{algorithm}-e2e"
seed = 3
[space]
builtin = "darts"
options = {{ width = 4, cells = 3, nodes = 2 }}
[data]
dataset = "fashion-mnist"
train_subset = 512
test_subset = 1000
[search]
algorithm = "{algorithm}"
epochs = 2
batch_size = 32
steps_per_epoch = 3
device = "cpu"
{extra}
[retrain]
epochs = 2
lr = 0.05
train_subset = 3000
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn archon_search_runs_darts_on_fashion_mnist_exports_a_genotype_and_retrains() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "darts", "options = { order = 2 }");
    let runs = tmp.path().join("runs");
    let (code, out, err) = run(archon(tmp.path())
        .arg("search")
        .arg(&config)
        .args(["--retrain", "--export", "torchscript"])
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("genotype: Genotype(normal=["), "{out}");
    assert!(out.contains("epoch   2:"), "{out}");
    let accuracy: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("retrained child: test accuracy "))
        .unwrap_or_else(|| panic!("no accuracy in {out}"))
        .trim()
        .parse()
        .unwrap();
    // Chance is 10 %.
    assert!(accuracy > 0.4, "retrained accuracy {accuracy}\n{out}");
    let dir = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let arch: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("architecture.json")).unwrap())
            .unwrap();
    assert!(arch.get("normal_n2_switch").is_some(), "{arch}");
    // The retrained child is kept (weights) and exported: the module beside it
    // describes the same architecture, and `archon train --load` re-evaluates the
    // weights to the retrained accuracy.
    assert!(dir.join("child.safetensors").is_file());
    assert!(dir.join("model.pt").is_file() && dir.join("model.pt.check.pt").is_file());
    let about: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("model.pt.json")).unwrap()).unwrap();
    assert_eq!(about["architecture"], arch);
    assert!(
        (about["test_accuracy"].as_f64().unwrap() - accuracy).abs() < 1e-4,
        "{about}"
    );
    // `archon export ID` does it again from the saved weights: the same accuracy.
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let again = tmp.path().join("again.pt");
    let (code, _, err) = run(archon(tmp.path())
        .args(["export", &id, "--format", "torchscript", "-o"])
        .arg(&again)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{err}");
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("again.pt.json")).unwrap())
            .unwrap();
    assert_eq!(again["test_accuracy"], about["test_accuracy"]);
    // The store holds every step and epoch, and the experiment lists as one-shot.
    let (code, list, err) = run(archon(tmp.path())
        .args(["experiment", "list", "--runs-dir"])
        .arg(&runs));
    assert_eq!(code, 0, "{err}");
    assert!(list.contains("one-shot") && list.contains("DONE"), "{list}");
    let (code, show, err) = run(archon(tmp.path())
        .args(["experiment", "show"])
        .arg(dir.file_name().unwrap())
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{err}");
    assert!(show.contains("6 steps, 2 epochs"), "{show}");
    assert!(show.contains("Genotype("), "{show}");
}

#[test]
fn pcdarts_searches_the_darts_space_with_partial_channels_after_a_warm_up() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        "pcdarts",
        "options = { partial_channels = 2, warmup_epochs = 1 }",
    );
    let runs = tmp.path().join("runs");
    let (code, out, err) = run(archon(tmp.path())
        .arg("search")
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("genotype: Genotype(normal=["), "{out}");
    let epoch = |n: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("epoch   {n}:")))
            .unwrap_or_else(|| panic!("no epoch {n} in {out}"))
            .to_string()
    };
    // The first epoch trains only the weights; the second moves α and β too.
    assert!(epoch("1").contains("warmup 1.0000") && !epoch("1").contains("valid_loss"));
    assert!(epoch("2").contains("warmup 0.0000") && epoch("2").contains("valid_loss"));
    // A space whose edges cannot be partial is refused by the option's name.
    let nasnet = std::fs::read_to_string(&config)
        .unwrap()
        .replace(r#"builtin = "darts""#, r#"builtin = "nasnet""#);
    std::fs::write(&config, nasnet).unwrap();
    let (code, out, err) = run(archon(tmp.path())
        .arg("search")
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("partial_channels") && err.contains("nasnet"),
        "{err}"
    );
}

#[test]
fn bad_search_configs_name_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    // `archon search CONFIG` must fail; its standard error.
    let refused = |config: &std::path::Path| {
        let (code, out, err) = run(archon(tmp.path())
            .arg("search")
            .arg(config)
            .arg("--runs-dir")
            .arg(tmp.path().join("runs")));
        assert_ne!(code, 0, "{out}");
        err
    };
    for (extra, needle) in [
        ("epochs_typo = 3", "epochs_typo"),
        ("options = { order = 7 }", "order"),
        ("[weights]\nshared_lr_scale = 0", "weights.shared_lr_scale"),
        ("replicas = 0", "search.replicas"),
    ] {
        let err = refused(&write_config(tmp.path(), "darts", extra));
        assert!(err.contains(needle), "{extra}: {err}");
    }
    // A space without weights of its candidates' own has nothing to scale apart.
    let config = write_config(tmp.path(), "spos", "[weights]\nshared_lr_scale = 0.1");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "builtin = \"darts\"\noptions = { width = 4, cells = 3, nodes = 2 }",
        "builtin = \"proxylessnas\"\noptions = { width = 4, max_depth = 2 }",
    );
    std::fs::write(&config, text).unwrap();
    let err = refused(&config);
    assert!(
        err.contains("weights.shared_lr_scale") && err.contains("no weights inside"),
        "{err}"
    );
    // A tuner is not a one-shot algorithm.
    let err = refused(&write_config(tmp.path(), "random", ""));
    assert!(err.contains("not a one-shot trainer"), "{err}");
}

#[test]
fn a_budget_plans_the_final_training_and_bad_recipes_are_refused_before_searching() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "darts", "");
    let original = std::fs::read_to_string(&config).unwrap();
    let with_retrain = |lines: &str| {
        let text = original.replace("epochs = 2\nlr = 0.05\ntrain_subset = 3000", lines);
        std::fs::write(&config, text).unwrap();
    };
    let search = |extra: &[&str]| {
        run(archon(tmp.path())
            .arg("search")
            .arg(&config)
            .args(extra)
            .arg("--runs-dir")
            .arg(tmp.path().join("runs")))
    };
    // Plenty of time: the plan keeps retrain.epochs, the most it may give.
    with_retrain("epochs = 2\nlr = 0.05\ntrain_subset = 300\nrecipe = \"final\"\nholdout = 50");
    let (code, out, err) = search(&["--retrain", "--budget", "30m"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("epochs (at most 2)") && out.contains(": 2 epochs"),
        "{out}"
    );
    assert!(
        out.contains("epoch   2:") && !out.contains("epoch   3:"),
        "{out}"
    );
    assert!(out.contains("ms per image"), "{out}");
    // No time left after the search: refused by name, nothing trained.
    let (code, out, err) = search(&["--retrain", "--budget", "1s"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("less than one epoch") && err.contains("--budget"),
        "{err}"
    );
    assert!(!out.contains("training: "), "{out}");
    let (code, _, err) = search(&["--retrain", "--budget", "soon"]);
    assert_ne!(code, 0);
    assert!(err.contains("--budget: \"soon\""), "{err}");
    // Bad recipe values are refused before the search starts, naming the key.
    for (lines, needle) in [
        (
            "recipe = \"fast\"",
            "retrain.recipe.preset: unknown recipe \"fast\"",
        ),
        (
            "recipe = { preset = \"final\", erasing = 2.0 }",
            "retrain.recipe.erasing: 2 must be in [0, 1)",
        ),
        (
            "recipe = { optimiser = \"sgd\" }",
            "retrain.recipe: unknown field `optimiser`",
        ),
        ("drop_path = 1.5", "retrain.drop_path"),
    ] {
        with_retrain(&format!("epochs = 2\n{lines}"));
        let (code, out, err) = search(&["--retrain"]);
        assert_ne!(code, 0, "{lines}: {out}");
        assert!(err.contains(needle), "{lines}: {err}");
        assert!(!out.contains("experiment "), "{lines}: started: {out}");
    }
}

#[test]
fn a_killed_search_resumes_from_its_last_checkpoint() {
    use archon::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let config = tiny_darts_search(tmp.path(), "resume", 4, 5);
    let runs = tmp.path().join("runs");
    let mut search = spawn_search(tmp.path(), &config, &runs);
    // Read-only: the test must not write to (or race) the store it watches.
    let dir = wait_for_experiment(&runs, |dir| {
        let done = Store::open_read_only(dir)
            .and_then(|store| store.search_epochs())
            .map_or(0, |e| e.len());
        done >= 2 && dir.join("checkpoint/state.json").is_file()
    });
    search.kill().unwrap();
    search.wait().unwrap();
    let before: Vec<(usize, String)> = Store::open(&dir)
        .unwrap()
        .search_epochs()
        .unwrap()
        .into_iter()
        .map(|e| (e.epoch, e.metrics))
        .collect();
    assert!(
        before.len() < 5,
        "the search finished before the kill: {before:?}"
    );
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let (code, out, err) = run(archon(tmp.path())
        .args(["experiment", "resume", &id, "--runs-dir"])
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("resuming after epoch"), "{err}");
    let store = Store::open(&dir).unwrap();
    let epochs = store.search_epochs().unwrap();
    assert_eq!(
        epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    // Epochs finished before the kill were not run again (the last one may have been
    // recorded just before its checkpoint was written).
    for (epoch, metrics) in &before[..before.len() - 1] {
        assert_eq!(
            &epochs[*epoch].metrics, metrics,
            "epoch {epoch} was run again"
        );
    }
    assert_eq!(store.meta("status").unwrap().as_deref(), Some("DONE"));
    assert!(store.meta("architecture").unwrap().is_some());
    let (code, _, err) = run(archon(tmp.path())
        .args(["experiment", "resume", &id, "--runs-dir"])
        .arg(&runs));
    assert_ne!(code, 0);
    assert!(err.contains("already finished"), "{err}");
}

#[test]
fn a_corrupt_checkpoint_is_refused_by_name() {
    use archon::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "darts", "");
    let runs = tmp.path().join("runs");
    let (code, out, err) = run(archon(tmp.path())
        .arg("search")
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    let dir = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // As a kill would leave it: not finished, with a checkpoint — here a damaged one.
    Store::open(&dir)
        .unwrap()
        .set_meta("status", "RUNNING")
        .unwrap();
    std::fs::create_dir_all(dir.join("checkpoint")).unwrap();
    std::fs::write(dir.join("checkpoint/state.json"), "{\"epoch\": 0, \"trai").unwrap();
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let (code, _, err) = run(archon(tmp.path())
        .args(["experiment", "resume", &id, "--runs-dir"])
        .arg(&runs));
    assert_ne!(code, 0);
    assert!(
        err.contains("state.json") && err.contains("corrupt"),
        "{err}"
    );
    // The finished epochs and the export stay.
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.search_epochs().unwrap().len(), 2);
    assert!(store.meta("architecture").unwrap().is_some());
}
