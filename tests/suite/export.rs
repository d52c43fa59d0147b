//! `archon train --export torchscript|onnx`: for one architecture of every image space
//! of the hub, the exported module, loaded by Python's torch (the set-up's wheel,
//! without archon), and the ONNX file under ONNX Runtime give archon's logits on 100
//! Fashion-MNIST test images; text spaces are refused by name; `--load` reads saved
//! weights back.

use archon_plugin_api::SearchSpace;
use archon_tests::{archon, run, workspace_root};
use std::path::Path;

/// Per image space: small options, and which architecture of its space to take.
const SPACES: &[(&str, &[&str], u128)] = &[
    ("nas-bench-201", &["width=4", "cells_per_stage=1"], 7_777),
    (
        "darts",
        &["width=4", "cells=3", "nodes=2", "auxiliary=true"],
        123_456_789,
    ),
    ("nasnet", &["width=4", "cells=3", "nodes=2"], 987_654_321),
    ("amoebanet", &["width=4", "cells=3", "nodes=2"], 55_555),
    ("pnas", &["width=4", "cells=3", "nodes=2"], 31_337),
    ("enas-micro", &["width=4", "cells=3", "nodes=2"], 4_242),
    ("enas-macro", &["width=4", "layers=3"], 999),
    ("proxylessnas", &["width=4", "max_depth=1"], 12_345),
    ("shufflenet", &["width=2", "blocks_per_stage=1"], 77),
    ("resnet", &["width=4", "blocks=1"], 0),
];

/// Python's torch and ONNX Runtime from the set-up (`.libtorch` is torch's install
/// folder, its `onnx-python` sub-folder ONNX's).
fn python() -> std::process::Command {
    let site = workspace_root().join(".libtorch");
    let mut cmd = std::process::Command::new("python3");
    cmd.env(
        "PYTHONPATH",
        format!("{}:{}", site.display(), site.join("onnx-python").display()),
    );
    cmd
}

fn architecture(home: &Path, space: &str, options: &[&str], index: u128) -> String {
    let mut gen = archon(home);
    gen.args(["space", "gen", space]);
    for o in options {
        gen.args(["--option", o]);
    }
    let (code, out, err) = run(&mut gen);
    assert_eq!(code, 0, "{err}");
    let ss = SearchSpace::from_json_str(&out).unwrap();
    let total = ss.size().unwrap_or(u128::MAX);
    let arch = ss.architecture_at(index % total).unwrap();
    arch.to_json(&ss).to_string()
}

fn train(
    home: &Path,
    space: &str,
    options: &[&str],
    arch: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let mut cmd = archon(home);
    cmd.args(["train", "--space", space, "--arch", arch])
        .args([
            "--train-subset",
            "64",
            "--test-subset",
            "100",
            "--batch-size",
            "32",
        ])
        .args(["--device", "cpu"]);
    for o in options {
        cmd.args(["--option", o]);
    }
    cmd.args(extra);
    run(&mut cmd)
}

#[test]
fn exports_match_archon_in_python_and_onnx_runtime_for_every_image_space() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let mut models = Vec::new();
    for (space, options, index) in SPACES {
        let arch = architecture(dir, space, options, *index);
        let model = dir.join(format!("{space}.pt"));
        let weights = dir.join(format!("{space}.safetensors"));
        let (code, out, err) = train(
            dir,
            space,
            options,
            &arch,
            &["--epochs", "1", "--save", weights.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{space}: {out}\n{err}");
        // The same weights to both formats.
        for (format, file) in [
            ("torchscript", &model),
            ("onnx", &dir.join(format!("{space}.onnx"))),
        ] {
            let (code, out, err) = train(
                dir,
                space,
                options,
                &arch,
                &[
                    "--epochs",
                    "0",
                    "--load",
                    weights.to_str().unwrap(),
                    "--export",
                    format,
                    "--export-to",
                    file.to_str().unwrap(),
                ],
            );
            assert_eq!(code, 0, "{space} {format}: {out}\n{err}");
        }
        let about: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{space}.onnx.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(about["format"], "onnx");
        assert_eq!(about["checked"]["runtime"], "ONNX Runtime");
        let about: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{space}.pt.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(about["space"], *space);
        assert_eq!(about["input"]["shape"], serde_json::json!(["N", 1, 28, 28]));
        assert_eq!(about["checked"]["images"], 100);
        assert_eq!(
            about["architecture"],
            serde_json::from_str::<serde_json::Value>(&arch).unwrap()
        );
        models.push(space.to_string());
    }
    // One Python process loads every module with torch.jit.load and runs it on the
    // check file's images: archon's logits within 1e-4, also for a batch of another
    // size; then the ONNX file of the same weights under ONNX Runtime.
    let script = r#"
import sys, warnings, torch
warnings.filterwarnings("ignore")
import onnxruntime
for name in sys.argv[2:]:
    model = torch.jit.load(f"{sys.argv[1]}/{name}.pt")
    check = dict(torch.jit.load(f"{sys.argv[1]}/{name}.pt.check.pt").named_parameters())
    x, want = check["inputs"].detach(), check["logits"].detach()
    assert tuple(x.shape) == (100, 1, 28, 28), (name, x.shape)
    assert x.std().item() > 0.1, (name, "the images are real pixels")
    assert want.std().item() > 0, (name, "the logits vary")
    with torch.no_grad():
        for batch in (x, x[:7]):
            diff = (model(batch) - want[: len(batch)]).abs().max().item()
            assert diff <= 1e-4, (name, "torchscript", diff)
    session = onnxruntime.InferenceSession(f"{sys.argv[1]}/{name}.onnx", providers=["CPUExecutionProvider"])
    for batch in (x, x[:7]):
        got = torch.from_numpy(session.run(None, {"images": batch.numpy()})[0])
        onnx_diff = (got - want[: len(batch)]).abs().max().item()
        assert onnx_diff <= 1e-4, (name, "onnx", onnx_diff)
    print(name, "ok", diff, onnx_diff)
"#;
    let output = python()
        .arg("-c")
        .arg(script)
        .arg(dir)
        .args(&models)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for m in &models {
        assert!(stdout.contains(&format!("{m} ok")), "{stdout}");
    }
}

#[test]
fn the_final_recipe_standardises_inside_the_exported_network() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let (space, options) = ("resnet", &["width=4", "blocks=1"][..]);
    let model = dir.join("final.pt");
    let (code, out, err) = train(
        dir,
        space,
        options,
        "{}",
        &[
            "--epochs",
            "1",
            "--recipe",
            "final",
            "--holdout",
            "16",
            "--export",
            "torchscript",
            "--export-to",
            model.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("inputs standardised"), "{out}");
    assert!(out.contains("nesterov (weight decay 0.0005), cosine per step after 1 warm-up epochs, label smoothing 0.1, erasing 0.25"), "{out}");
    // Epochs report the held-out split; the test set is touched once, at the end.
    assert!(
        out.contains("valid acc") && !out.contains("  test acc "),
        "{out}"
    );
    assert!(out.contains("16 training examples held out"), "{out}");
    let about: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("final.pt.json")).unwrap()).unwrap();
    assert!(
        about["input"]["values"]
            .as_str()
            .unwrap()
            .contains("standardises them itself"),
        "{about}"
    );
    // In Python: raw [0, 1] pixels in, archon's logits out; the module holds the
    // training split's mean and deviation (so standardising by hand changes its output).
    let script = r#"
import sys, torch
model = torch.jit.load(sys.argv[1])
check = dict(torch.jit.load(sys.argv[1] + ".check.pt").named_parameters())
x, want = check["inputs"].detach(), check["logits"].detach()
assert 0.0 <= x.min().item() and x.max().item() <= 1.0, "raw pixels"
with torch.no_grad():
    diff = (model(x) - want).abs().max().item()
    assert diff <= 1e-4, diff
    moved = (model((x - x.mean()) / x.std()) - want).abs().max().item()
    assert moved > 1e-2, moved
print("ok", diff, moved)
"#;
    let output = python().arg("-c").arg(script).arg(&model).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.starts_with("ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Bad recipe values are refused before any data is loaded, naming the flag.
    for (flag, value, expect) in [
        (
            "--label-smoothing",
            "1.5",
            "--label-smoothing: 1.5 must be in [0, 1)",
        ),
        ("--recipe", "fast", "--recipe: unknown recipe \"fast\""),
        (
            "--optimizer",
            "adam",
            "--optimizer: unknown optimizer \"adam\"",
        ),
        (
            "--warmup-epochs",
            "-1",
            "--warmup-epochs: -1 must be a finite number ≥ 0",
        ),
    ] {
        let arg = format!("{flag}={value}");
        let (code, out, err) = run(archon(dir)
            .args(["train", "--space", space, "--arch", "{}", "--device", "cpu"])
            .args(["--option", options[0], "--option", options[1], &arg]));
        assert_ne!(code, 0, "{flag} {value}: {out}");
        assert!(err.contains(expect), "{flag} {value}: {err}");
        assert!(
            !out.contains("data:"),
            "{flag} {value}: data was loaded: {out}"
        );
    }
}

/// The `test accuracy X` that `archon train` prints.
fn test_accuracy(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("test accuracy "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no test accuracy in {out}"))
        .to_string()
}

#[test]
fn saved_weights_load_back_and_text_spaces_are_refused_before_training() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let (space, options) = ("nas-bench-201", &["width=4", "cells_per_stage=1"][..]);
    let arch = architecture(dir, space, options, 4_321);
    let weights = dir.join("w.safetensors");
    let (code, trained, err) = train(
        dir,
        space,
        options,
        &arch,
        &["--epochs", "1", "--save", weights.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    // --load with --epochs 0 evaluates the saved child: the same accuracy (a fresh
    // initialisation would not give it), and exports it.
    let model = dir.join("loaded.pt");
    let (code, loaded, err) = train(
        dir,
        space,
        options,
        &arch,
        &[
            "--epochs",
            "0",
            "--load",
            weights.to_str().unwrap(),
            "--export",
            "torchscript",
            "--export-to",
            model.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(test_accuracy(&trained), test_accuracy(&loaded), "{loaded}");
    assert!(model.is_file() && dir.join("loaded.pt.check.pt").is_file());
    // The native pair: --export safetensors writes the weights and, beside them, the
    // architecture; loading that pair gives the same accuracy again.
    let native = dir.join("native.safetensors");
    let (code, _, err) = train(
        dir,
        space,
        options,
        &arch,
        &[
            "--epochs",
            "0",
            "--load",
            weights.to_str().unwrap(),
            "--export",
            "safetensors",
        ]
        .into_iter()
        .chain(["--export-to", native.to_str().unwrap()])
        .collect::<Vec<_>>(),
    );
    assert_eq!(code, 0, "{err}");
    let about_path = dir.join("native.safetensors.json");
    let about: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&about_path).unwrap()).unwrap();
    assert_eq!(about["format"], "safetensors");
    assert_eq!(
        about["architecture"],
        serde_json::from_str::<serde_json::Value>(&arch).unwrap()
    );
    let arch_file = dir.join("native-arch.json");
    std::fs::write(&arch_file, about["architecture"].to_string()).unwrap();
    let (code, again, err) = train(
        dir,
        space,
        options,
        arch_file.to_str().unwrap(),
        &["--epochs", "0", "--load", native.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(test_accuracy(&trained), test_accuracy(&again), "{again}");
    // Weights of another architecture are refused, naming the file.
    let other = architecture(dir, space, options, 1);
    let (code, _, err) = train(
        dir,
        space,
        options,
        &other,
        &["--epochs", "0", "--load", weights.to_str().unwrap()],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("w.safetensors") && err.contains("same architecture"),
        "{err}"
    );
    // A text space cannot be traced: refused before any training, naming it.
    let (code, out, err) = train(
        dir,
        "textnas",
        &["width=8", "layers=2"],
        &architecture(dir, "textnas", &["width=8", "layers=2"], 3),
        &[
            "--dataset",
            "fortunes",
            "--epochs",
            "5",
            "--export",
            "torchscript",
        ],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("textnas") && err.contains("TorchScript"),
        "{err}"
    );
    assert!(!out.contains("epoch"), "refused before training: {out}");
    assert!(!dir.join("model.pt").exists());
}
