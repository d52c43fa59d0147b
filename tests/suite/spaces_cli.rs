//! `archon space list|show|gen` and `archon train` end to end.

use archon_plugin_api::{Architecture, SearchSpace};
use archon_tests::{archon, run};
use tempfile::TempDir;

/// The `test accuracy X` that `archon train` prints last.
fn test_accuracy(out: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix("test accuracy "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no test accuracy in:\n{out}"))
}

#[test]
fn space_list_shows_the_hub() {
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path()).args(["space", "list"]));
    assert_eq!(code, 0, "{err}");
    for name in [
        "amoebanet",
        "darts",
        "enas-macro",
        "enas-micro",
        "nas-bench-201",
        "nasnet",
        "pnas",
        "proxylessnas",
        "resnet",
        "shufflenet",
        "textnas",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(name)),
            "{name} missing from:\n{out}"
        );
    }
}

#[test]
fn space_gen_writes_nni_json_that_validates() {
    let home = TempDir::new().unwrap();
    let file = home.path().join("nb201.json");
    let (code, _, err) = run(archon(home.path())
        .args(["space", "gen", "nas-bench-201", "-o"])
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    let space = SearchSpace::from_json_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(space.size(), Some(15625));
    let first = space.architecture_at(0).unwrap();
    assert!(Architecture::from_json(&space, &first.to_json(&space)).is_ok());

    let (code, out, _) =
        run(archon(home.path()).args(["space", "gen", "darts", "--option", "nodes=2"]));
    assert_eq!(code, 0);
    let darts = SearchSpace::from_json_str(&out).unwrap();
    assert_eq!(darts.choices().len(), 2 * (2 + 2 + 3));
}

#[test]
fn space_options_are_checked() {
    let home = TempDir::new().unwrap();
    let (code, _, err) =
        run(archon(home.path()).args(["space", "show", "darts", "--option", "widht=3"]));
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "space darts has no option \"widht\" (known: auxiliary, width, cells, nodes, affine, partial_channels)"
        ),
        "{err}"
    );
    let (code, _, err) =
        run(archon(home.path()).args(["space", "gen", "darts", "--input", "1x28"]));
    assert_eq!(code, 1);
    assert!(err.contains("--input \"1x28\": expected CxHxW"), "{err}");
    let (code, _, err) = run(archon(home.path()).args(["space", "gen", "vgg"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("no search space named \"vgg\" (known: amoebanet, custom-cell, darts, enas-macro, enas-micro, nas-bench-201, nasnet, pnas, proxylessnas, resnet, shufflenet, textnas)"),
        "{err}"
    );
}

#[test]
fn train_runs_a_nas_bench_201_child_on_fashion_mnist() {
    let home = TempDir::new().unwrap();
    let weights = home.path().join("child.safetensors");
    let (code, out, err) = run(archon(home.path())
        .args(["train", "--space", "nas-bench-201", "--arch"])
        .arg("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
        .args(["--option", "width=4", "--option", "cells_per_stage=1", "--epochs", "1"])
        .args(["--train-subset", "600", "--test-subset", "300", "--device", "cpu", "--save"])
        .arg(&weights));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("; 600 training and 300 test examples"),
        "{out}"
    );
    let accuracy = test_accuracy(&out);
    assert!((0.0..=1.0).contains(&accuracy));
    assert!(weights.is_file());
}

#[test]
fn pad_to_gives_fashion_mnist_cifar_s_shape() {
    let home = TempDir::new().unwrap();
    let mflops = |extra: &[&str]| {
        let (code, out, err) = run(archon(home.path())
            .args(["train", "--space", "nas-bench-201", "--arch"])
            .arg("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
            .args(["--option", "width=4", "--option", "cells_per_stage=1", "--epochs", "1"])
            .args(["--train-subset", "64", "--test-subset", "64", "--channels", "3"])
            .args(extra));
        assert_eq!(code, 0, "{out}\n{err}");
        let line = out
            .lines()
            .find(|l| l.contains("MFLOPs"))
            .unwrap()
            .to_string();
        line.split(", ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    let (plain, padded) = (mflops(&[]), mflops(&["--pad-to", "32"]));
    // Convolutions scale with the pixels: (32/28)² more work per example.
    let ratio = padded / plain;
    assert!(
        (ratio - (32.0f64 / 28.0).powi(2)).abs() < 0.05,
        "{plain} vs {padded}"
    );
    let (code, _, err) = run(archon(home.path()).args([
        "train",
        "--space",
        "nas-bench-201",
        "--arch",
        "{}",
        "--pad-to",
        "20",
    ]));
    assert_ne!(code, 0);
    assert!(
        err.contains("pad_to 20: only images can be padded, to at least their size"),
        "{err}"
    );
}

#[test]
fn train_explains_bad_architectures() {
    let home = TempDir::new().unwrap();
    let (code, _, err) = run(archon(home.path()).args([
        "train",
        "--space",
        "darts",
        "--arch",
        "{\"x\": 1}",
        "--device",
        "cpu",
    ]));
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next().unwrap(),
        "error: architecture: at \"x\": no such choice in the search space (invalid input)"
    );
    let (code, _, err) = run(archon(home.path()).args([
        "train",
        "--space",
        "nas-bench-201",
        "--arch",
        "|x~0|",
        "--device",
        "cpu",
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("arch string \"|x~0|\": 1 nodes instead of 3"),
        "{err}"
    );
    let (code, _, err) =
        run(archon(home.path()).args(["train", "--space", "darts", "--arch", "missing.json"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("--arch \"missing.json\": no such file, and not inline JSON"),
        "{err}"
    );
}

#[test]
fn a_cell_plugin_trains_inside_the_cell_skeleton() {
    let home = TempDir::new().unwrap();
    let plugins = TempDir::new().unwrap();
    let lib = archon_tests::library("fixture-conv-cell");
    std::fs::copy(&lib, plugins.path().join(lib.file_name().unwrap())).unwrap();
    let weights = home.path().join("custom.safetensors");
    let (code, out, err) = run(archon(home.path())
        .arg("--plugin-dir")
        .arg(plugins.path())
        .args([
            "train",
            "--space",
            "custom-cell",
            "--cell-plugin",
            "conv-cell",
            "--arch",
            "{}",
        ])
        .args([
            "--option", "width=4", "--option", "cells=3", "--option", "nodes=2", "--epochs", "2",
            "--lr", "0.05",
        ])
        .args([
            "--train-subset",
            "2000",
            "--test-subset",
            "500",
            "--device",
            "cpu",
            "--save",
        ])
        .arg(&weights));
    assert_eq!(code, 0, "{out}\n{err}");
    let accuracy = test_accuracy(&out);
    // Chance is 0.10.
    assert!(accuracy > 0.4, "accuracy {accuracy}:\n{out}");
    // The plugin's weights are the host's: they are in the saved file.
    let saved = std::fs::read(&weights).unwrap();
    let header = String::from_utf8_lossy(&saved[..saved.len().min(64 << 10)]);
    assert!(
        header.contains("cells.0.plugin.a0") && header.contains("cells.2.plugin.bias1"),
        "saved keys missing"
    );
}

#[test]
fn custom_cell_needs_a_cell_plugin() {
    let home = TempDir::new().unwrap();
    let (code, _, err) = run(archon(home.path()).args(["space", "show", "custom-cell"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("space custom-cell needs a cell plugin: give --cell-plugin NAME"),
        "{err}"
    );
    let (code, _, err) =
        run(archon(home.path()).args(["space", "show", "custom-cell", "--cell-plugin", "random"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("plugin \"random\" is not a cell plugin (it provides: tuner)"),
        "{err}"
    );
}

#[test]
fn train_runs_a_textnas_child_on_fortunes() {
    let home = TempDir::new().unwrap();
    let arch = r#"{"op_0": {"_idx": 1}, "input_1": {"_idx": [0]}, "op_1": {"_idx": 5}, "skip_1": {"_idx": []}}"#;
    let (code, out, err) = run(archon(home.path())
        .args([
            "train",
            "--space",
            "textnas",
            "--dataset",
            "fortunes",
            "--arch",
            arch,
        ])
        .args([
            "--option",
            "width=32",
            "--option",
            "layers=2",
            "--epochs",
            "4",
            "--lr",
            "0.1",
            "--max-len",
            "48",
            "--device",
            "cpu",
        ]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("data: fortunes: 6 classes"), "{out}");
    let accuracy = test_accuracy(&out);
    assert!(
        accuracy > 0.32,
        "accuracy {accuracy} (majority class 22 %):\n{out}"
    );
}

#[test]
fn unknown_datasets_and_missing_folders_are_explained() {
    let home = TempDir::new().unwrap();
    let (code, _, err) = run(archon(home.path()).args([
        "train",
        "--space",
        "darts",
        "--arch",
        "{}",
        "--dataset",
        "imagenet",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("--dataset \"imagenet\": unknown (known: fashion-mnist, mnist, cifar10, cifar100, folder, fortunes, tsv)"), "{err}");
    let (code, _, err) = run(archon(home.path()).args([
        "train",
        "--space",
        "darts",
        "--arch",
        "{}",
        "--dataset",
        "cifar10",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("--dataset cifar10 needs --data-dir"), "{err}");
}

#[test]
fn space_bench_times_supernet_and_child_steps() {
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path()).args([
        "space",
        "bench",
        "nas-bench-201",
        "--option",
        "width=4",
        "--option",
        "cells_per_stage=1",
        "--batch",
        "4",
        "--steps",
        "1",
        "--device",
        "cpu",
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    for row in [
        "supernet, weighted (differentiable)",
        "supernet, fixed single path (sampling)",
        "child network",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row:?} in:\n{out}"));
        let ms: f64 = line[row.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(ms > 0.0, "{line}");
    }
}

#[test]
fn space_gen_feeds_the_random_plugin_whose_architecture_trains() {
    let home = TempDir::new().unwrap();
    let (code, space_json, err) =
        run(archon(home.path()).args(["space", "gen", "darts", "--option", "nodes=3"]));
    assert_eq!(code, 0, "{err}");
    // The real random plugin, loaded as the host loads it.
    let plugin = archon::plugins::load(&archon_tests::library("archon-random")).unwrap();
    let new_tuner = plugin.module().new_tuner();
    let mut tuner = archon_plugin_api::TunerClient::from_box(
        new_tuner(r#"{"seed": 5}"#.into()).into_result().unwrap(),
    );
    tuner.update_search_space(&space_json).unwrap();
    let params = tuner.generate_parameters(0).unwrap().unwrap();
    let arch_file = home.path().join("arch.json");
    std::fs::write(&arch_file, params.to_string()).unwrap();
    let (code, out, err) = run(archon(home.path())
        .args(["train", "--space", "darts", "--arch"])
        .arg(&arch_file)
        .args([
            "--option", "nodes=3", "--option", "width=4", "--option", "cells=3", "--epochs", "1",
        ])
        .args([
            "--train-subset",
            "256",
            "--test-subset",
            "128",
            "--device",
            "cpu",
        ]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("test accuracy "), "{out}");
}
