//! ONNX export through the set-up's own Python torch: the child's TorchScript module
//! (see `archon_spaces::export`) is converted to an ExportedProgram
//! (`torch._export.converter.TS2EPConverter`, only the batch dimension dynamic),
//! written as ONNX by torch's exporter (with `onnxscript`), and run by ONNX Runtime on
//! the check images against archon's logits.
//!
//! Python packages: torch from the folder libtorch was loaded from (the wheel's
//! install folder), ONNX's from its `onnx-python` sub-folder (`scripts/setup.sh`
//! installs both); `ARCHON_PYTHONPATH` overrides.

use anyhow::{bail, Context, Result};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The conversion and check, run by `python3 -c` with: TorchScript file, check file,
/// ONNX file. Prints one JSON line: the largest logit difference under ONNX Runtime.
const SCRIPT: &str = r#"
import json, sys, warnings
warnings.filterwarnings("ignore")
import torch
import torch._export.converter as converter
from torch.export import Dim
# The converter makes every dimension dynamic (Dim.AUTO), and torch.export's solver
# then fails on shapes computed from the image size; only the batch may vary.
every_dim_auto = converter._tree_map_with_path
converter._tree_map_with_path = lambda fn, tree, *a, **k: every_dim_auto(
    lambda path, x: [Dim.AUTO] + [Dim.STATIC] * (x.dim() - 1) if isinstance(x, torch.Tensor) else None,
    tree, *a, **k)
ts_path, check_path, out_path = sys.argv[1:4]
module = torch.jit.load(ts_path)
check = dict(torch.jit.load(check_path).named_parameters())
images, logits = check["inputs"].detach(), check["logits"].detach()
program = converter.TS2EPConverter(module, (images[:2],)).convert()
torch.onnx.export(program, (images[:2],), out_path, dynamo=True,
                  input_names=["images"], output_names=["logits"], verbose=False)
import onnxruntime
session = onnxruntime.InferenceSession(out_path, providers=["CPUExecutionProvider"])
got = session.run(None, {session.get_inputs()[0].name: images.numpy()})[0]
diff = float(abs(torch.from_numpy(got) - logits).max())
print(json.dumps({"max_abs_logit_difference": diff, "onnxruntime": onnxruntime.__version__}))
"#;

/// Where the set-up's Python packages are: `ARCHON_PYTHONPATH`, or the folder this
/// process loaded libtorch from and its `onnx-python` sub-folder.
pub fn python_path() -> Result<String> {
    if let Ok(path) = std::env::var("ARCHON_PYTHONPATH") {
        return Ok(path);
    }
    let maps = std::fs::read_to_string("/proc/self/maps").context("reading /proc/self/maps")?;
    let lib = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("/libtorch_cpu.so"))
        .map(PathBuf::from)
        .context("libtorch is not loaded in this process: set ARCHON_PYTHONPATH to the folder holding Python's torch")?;
    // SITE/torch/lib/libtorch_cpu.so
    let site = lib
        .ancestors()
        .nth(3)
        .context("libtorch's path is not SITE/torch/lib")?;
    Ok(format!(
        "{}:{}",
        site.display(),
        site.join("onnx-python").display()
    ))
}

/// Converts `torchscript` to ONNX at `out` and checks it with ONNX Runtime on the
/// images and logits of `check`; returns the largest logit difference.
pub fn torchscript_to_onnx(torchscript: &Path, check: &Path, out: &Path) -> Result<f64> {
    let python_path = python_path()?;
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(torchscript)
        .arg(check)
        .arg(out)
        .env("PYTHONPATH", &python_path)
        .output()
        .context("running python3 (ONNX export goes through the set-up's Python torch)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let missing = stderr.contains("No module named 'onnx");
        let last: Vec<&str> = stderr.lines().rev().take(6).collect();
        bail!(
            "the ONNX conversion failed{}: {}",
            if missing {
                format!(" (Python packages from {python_path}: run scripts/setup.sh, which installs onnx, onnxscript and onnxruntime)")
            } else {
                String::new()
            },
            last.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("the ONNX conversion printed no result: {stdout}"))?;
    let result: serde_json::Value = serde_json::from_str(line)?;
    result["max_abs_logit_difference"]
        .as_f64()
        .with_context(|| format!("the ONNX conversion's result: {line}"))
}
