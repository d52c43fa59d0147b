//! The `cuda` test group: what must hold on a GPU. Each test passes without running
//! (saying "skipped" on stderr) when libtorch sees no CUDA device, so the group is
//! safe everywhere; `scripts/gpu-check.sh` runs it on a GPU machine
//! (`cargo test --release -p archon-tests -- cuda::`).

use archon_plugin_api::tch::Cuda;
use archon_tests::{archon, only_experiment, run, target_dir, tiny_darts_search, workspace_root};

const ARCH: &str =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

fn cuda() -> bool {
    let ok = Cuda::is_available();
    if !ok {
        eprintln!("skipped: libtorch sees no CUDA device");
    }
    ok
}

fn accuracy(out: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix("test accuracy "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no test accuracy in {out}"))
}

#[test]
fn a_child_trained_on_cuda_evaluates_the_same_on_the_cpu() {
    if !cuda() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let weights = home.path().join("w.safetensors");
    let train = |device: &str, extra: &[&str]| {
        let (code, out, err) = run(archon(home.path())
            .args(["train", "--space", "nas-bench-201", "--arch", ARCH])
            .args(["--option", "width=8", "--option", "cells_per_stage=2"])
            .args([
                "--train-subset",
                "3000",
                "--test-subset",
                "1000",
                "--device",
                device,
            ])
            .args(extra));
        assert_eq!(code, 0, "{device}: {out}\n{err}");
        out
    };
    let on_gpu = train(
        "cuda",
        &["--epochs", "2", "--save", weights.to_str().unwrap()],
    );
    assert!(on_gpu.contains("child on Cuda(0)"), "{on_gpu}");
    let gpu_accuracy = accuracy(&on_gpu);
    assert!(gpu_accuracy > 0.5, "{on_gpu}");
    let on_cpu = train(
        "cpu",
        &["--epochs", "0", "--load", weights.to_str().unwrap()],
    );
    assert!(
        (accuracy(&on_cpu) - gpu_accuracy).abs() < 0.01,
        "cuda {gpu_accuracy} vs cpu {}",
        accuracy(&on_cpu)
    );
}

#[test]
fn darts_searches_on_cuda_and_exports_a_genotype() {
    if !cuda() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let config = tiny_darts_search(home.path(), "gpu", 1, 2);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("device = \"cpu\"", "device = \"cuda\"");
    std::fs::write(&config, text).unwrap();
    let runs = home.path().join("runs");
    let (code, out, err) = run(archon(home.path())
        .arg("search")
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("genotype: Genotype(normal=["), "{out}");
    assert!(only_experiment(&runs).join("experiment.db").is_file());
}

#[test]
fn the_one_shot_bench_runs_on_cuda() {
    if !cuda() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(archon(home.path()).args([
        "bench", "one-shot", "--device", "cuda", "--images", "512", "--steps", "3",
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Cuda(0)") && out.contains("epoch:"), "{out}");
}

#[test]
fn the_gpu_check_script_skips_cleanly_without_a_gpu() {
    if Cuda::is_available() {
        return; // On a GPU the script runs for real (minutes): not from the test suite.
    }
    let out = tempfile::tempdir().unwrap();
    let profile = target_dir()
        .file_name()
        .and_then(|p| p.to_str())
        .unwrap_or("debug")
        .to_string();
    let (code, stdout, stderr) = run(std::process::Command::new("bash")
        .current_dir(workspace_root())
        .arg("scripts/gpu-check.sh")
        .arg(out.path())
        .args(["--profile", &profile, "--no-setup", "--no-build"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(report.starts_with("# archon GPU check"), "{report}");
    assert!(
        report.contains("libtorch sees no CUDA device")
            && report.contains("Skipped: no CUDA device"),
        "{report}"
    );
    let (code, _, stderr) = run(std::process::Command::new("bash")
        .current_dir(workspace_root())
        .arg("scripts/gpu-check.sh"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("usage: bash scripts/gpu-check.sh REPORT_DIR"),
        "{stderr}"
    );
}
