//! The batch script of an attempt and its submission with `sbatch --parsable`.

use super::{SlurmService, EXIT_MARKER};
use crate::{config::parse_duration, service::TrialSpec};
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

/// `text` as one single-quoted shell word.
pub(super) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Slurm's `--time` for a limit: minutes:seconds, at least one second.
pub(super) fn slurm_time(limit: Duration) -> String {
    let s = (limit.as_secs() + u64::from(limit.subsec_nanos() > 0)).max(1);
    format!("{}:{:02}", s / 60, s % 60)
}

/// The batch script of an attempt.
fn script(svc: &SlurmService, spec: &TrialSpec, out: &Path, err: &Path) -> String {
    let o = &svc.opts;
    let mut s = String::from("#!/bin/sh\n");
    let mut directive = |d: String| s.push_str(&format!("#SBATCH {d}\n"));
    directive(format!(
        "--job-name=archon-{}-{}",
        svc.experiment_id, spec.id
    ));
    directive(format!("--output={}", out.display()));
    directive(format!("--error={}", err.display()));
    let limit = o
        .time_limit
        .as_deref()
        .and_then(parse_duration)
        .or(spec.timeout);
    if let Some(limit) = limit {
        directive(format!("--time={}", slurm_time(limit)));
    }
    for (flag, value) in [
        ("--partition", o.partition.clone()),
        ("--account", o.account.clone()),
        ("--qos", o.qos.clone()),
        ("--cpus-per-task", o.cpus_per_trial.map(|c| c.to_string())),
        (
            "--gres",
            o.gpus_per_trial
                .filter(|&g| g > 0)
                .map(|g| format!("gpu:{g}")),
        ),
        ("--mem", o.mem_per_trial.clone()),
    ] {
        if let Some(v) = value {
            directive(format!("{flag}={v}"));
        }
    }
    for extra in &o.extra_args {
        directive(extra.clone());
    }
    s.push_str(&format!(
        "cd {} || exit 97\n",
        quote(&spec.cwd.display().to_string())
    ));
    for (k, v) in &spec.env {
        s.push_str(&format!("export {k}={}\n", quote(v)));
    }
    let command: Vec<String> = spec.command.iter().map(|c| quote(c)).collect();
    s.push_str(&command.join(" "));
    s.push_str(&format!(
        "\ncode=$?\necho \"{EXIT_MARKER} $code\"\nexit $code\n"
    ));
    s
}

/// Writes the attempt's script and submits it; returns the job id and output file.
pub(super) fn submit(svc: &SlurmService, spec: &TrialSpec) -> Result<(String, PathBuf), String> {
    let dir = svc.job_dir(spec);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    std::fs::create_dir_all(&spec.log_dir)
        .map_err(|e| format!("creating {}: {e}", spec.log_dir.display()))?;
    let base = dir.join(format!("job-{}", spec.attempt));
    let (out, err) = (base.with_extension("out"), base.with_extension("err"));
    let _ = std::fs::remove_file(&out);
    let path = base.with_extension("sh");
    std::fs::write(&path, script(svc, spec, &out, &err))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    let result = Command::new("sbatch")
        .arg("--parsable")
        .arg(&path)
        .output()
        .map_err(|e| {
            format!("cannot run sbatch ({e}); is the Slurm client installed and on PATH?")
        })?;
    if !result.status.success() {
        return Err(format!(
            "sbatch refused the job: {}",
            String::from_utf8_lossy(&result.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&result.stdout);
    let job = text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    if job.is_empty() || !job.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return Err(format!("sbatch printed no job id: {text:?}"));
    }
    Ok((job, out))
}
