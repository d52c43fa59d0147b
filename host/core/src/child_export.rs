//! Exporting a trained child (`--export`): TorchScript by tracing, ONNX from that
//! through the set-up's Python torch, or archon's native safetensors weights; beside
//! the file, `FILE.json` (what it expects and is: the architecture above all) and, for
//! the first two, `FILE.check.pt` (100 test images and archon's logits on them).

use crate::spec::{Export, ExportFormat, TrainSpec};
use anyhow::{bail, Context, Result};
use archon_spaces::{data::Dataset, export::TOLERANCE, hub::SpaceConfig, Child};
use std::path::PathBuf;

/// Test images the export is checked on.
const CHECK_IMAGES: i64 = 100;

/// Exports the trained `child` as `export` says; `accuracy` is its test accuracy.
pub fn export_child(
    child: &mut Child,
    test_set: &Dataset,
    (spec, cfg, arch): (&TrainSpec, &SpaceConfig, &serde_json::Value),
    export: &Export,
    accuracy: f64,
) -> Result<()> {
    let n = CHECK_IMAGES.min(test_set.len() as i64);
    let example = test_set
        .inputs
        .narrow(0, 0, n)
        .to_device(child.var_store().device());
    let sibling = |suffix: &str| {
        let mut path = export.path.clone().into_os_string();
        path.push(suffix);
        PathBuf::from(path)
    };
    let check_path = sibling(".check.pt");
    let traced_path = match export.format {
        ExportFormat::Onnx => sibling(".torchscript.tmp"),
        ExportFormat::Torchscript | ExportFormat::Safetensors => export.path.clone(),
    };
    let trace = |child: &mut Child| {
        archon_spaces::export::to_torchscript(child, &example, &traced_path, Some(&check_path))
            .with_context(|| format!("exporting the child to {}", export.path.display()))
    };
    let diff = match export.format {
        ExportFormat::Safetensors => {
            child
                .var_store()
                .save(&export.path)
                .with_context(|| format!("saving the weights to {}", export.path.display()))?;
            0.0
        }
        ExportFormat::Torchscript => trace(child)?,
        ExportFormat::Onnx => {
            let converted = trace(child).and_then(|_| {
                crate::onnx::torchscript_to_onnx(&traced_path, &check_path, &export.path)
                    .with_context(|| format!("exporting the child to {}", export.path.display()))
            });
            let _ = std::fs::remove_file(&traced_path);
            let diff = converted?;
            if diff.is_nan() || diff > TOLERANCE {
                bail!(
                    "{}: under ONNX Runtime its logits differ from archon's by {diff:e} (tolerance {TOLERANCE:e})",
                    export.path.display()
                );
            }
            diff
        }
    };
    let size = example.size();
    let (format, runner) = match export.format {
        ExportFormat::Torchscript => ("TorchScript", "torch.jit.load"),
        ExportFormat::Onnx => ("ONNX", "ONNX Runtime"),
        ExportFormat::Safetensors => ("safetensors", "archon train --load"),
    };
    let about = serde_json::json!({
        "format": export.format.name(),
        "space": spec.space,
        "options": spec.space_spec.options,
        "architecture": arch,
        "input": {
            "name": "images",
            "shape": ["N", size[1], size[2], size[3]],
            "dtype": "float32",
            "values": if spec.recipe.standardize {
                "pixels scaled to [0, 1] (value / 255); the network standardises them itself (per-channel mean and deviation of the training split, kept in the file)"
            } else {
                "pixels scaled to [0, 1] (value / 255), no mean/std normalisation"
            },
        },
        "output": format!("logits [N, {}]", cfg.num_classes),
        "test_accuracy": accuracy,
        "checked": (export.format != ExportFormat::Safetensors).then(|| serde_json::json!({
            "images": n,
            "runtime": runner,
            "max_abs_logit_difference": diff,
            "file": check_path.file_name().map(|f| f.to_string_lossy().to_string()),
            "how": "dict(torch.jit.load(file).named_parameters()) holds `inputs` (these test images) and `logits` (archon's): your runtime should reproduce them",
        })),
    });
    let about_path = sibling(".json");
    std::fs::write(&about_path, serde_json::to_string_pretty(&about)? + "\n")
        .with_context(|| format!("writing {}", about_path.display()))?;
    if export.format == ExportFormat::Safetensors {
        crate::reporter::note(format!(
            "exported {} (safetensors: the weights, for {runner}); the architecture and what it expects: {}",
            export.path.display(),
            about_path.display()
        ));
    } else {
        crate::reporter::note(format!(
            "exported {} ({format}, evaluation mode; under {runner} max |Δ logit| {diff:.1e} on {n} test images, kept in {}); what it expects: {}",
            export.path.display(),
            check_path.display(),
            about_path.display()
        ));
    }
    Ok(())
}
