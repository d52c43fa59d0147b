//! NNI's experiment config (YAML, v2 and the legacy v1), read as NNI reads it and
//! turned into archon's experiment config, so that `archon experiment run config.yml`
//! runs an NNI user's folder unchanged. Every key archon cannot honour is refused
//! before anything runs, naming the key and saying why; keys that only tune NNI's own
//! manager (logging, its web server's address) have no effect and are listed as such.

mod names;
mod v1;

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::path::Path;

/// An NNI config read: archon's config as TOML text, and what had no effect.
#[derive(Debug)]
pub struct Converted {
    /// archon's experiment config (TOML), to record and run.
    pub toml: String,
    /// Keys accepted without effect, one sentence each.
    pub ignored: Vec<String>,
}

/// Whether `path` names an NNI config (a `.yml` or `.yaml` file).
pub fn is_nni_config(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Reads NNI config text (`path` is for messages).
pub fn convert(text: &str, path: &Path) -> Result<Converted> {
    let value: Value =
        serde_yaml::from_str(text).with_context(|| format!("{}: not YAML", path.display()))?;
    let Value::Object(config) = value else {
        bail!(
            "{}: an NNI config is a mapping of keys, found {value}",
            path.display()
        );
    };
    let (v2, format) = if v1::is_v1(&config) {
        (v1::to_v2(&config), "v1")
    } else {
        (Ok(config), "v2")
    };
    let place = |e: anyhow::Error| e.context(format!("{} (NNI config, {format})", path.display()));
    from_v2(&v2.map_err(place)?).map_err(place)
}

/// Keys that tune NNI's own manager: accepted, without effect here.
const NO_EFFECT: &[(&str, &str)] = &[
    ("nniManagerIp", "archon's web UI is `archon view`"),
    ("debug", "archon logs with -v"),
    ("logLevel", "archon logs with -v"),
    (
        "experimentWorkingDirectory",
        "archon keeps experiments in --runs-dir",
    ),
    ("tunerGpuIndices", "archon's tuners run on the CPU"),
    ("experimentType", "only \"hpo\" is read"),
];

fn from_v2(c: &Map<String, Value>) -> Result<Converted> {
    let mut out = toml::Table::new();
    let mut trial = toml::Table::new();
    let mut service = toml::Table::new();
    let mut ignored = Vec::new();
    let mut direction: Option<(String, &str)> = None;
    let mut gpus: Option<Vec<u32>> = None;
    let mut gpu_number = 0u64;
    for (key, value) in c {
        if value.is_null() {
            continue; // NNI: a key set to null is a key not set
        }
        match key.as_str() {
            "experimentName" => {
                out.insert("name".into(), slug(&string(key, value)?).into());
            }
            "searchSpaceFile" | "searchSpace" if out.contains_key("space") => {
                bail!("{key}: give searchSpaceFile or searchSpace, not both (NNI refuses both too)")
            }
            "searchSpaceFile" => {
                let mut space = toml::Table::new();
                space.insert("file".into(), string(key, value)?.into());
                out.insert("space".into(), space.into());
            }
            "searchSpace" => {
                let mut space = toml::Table::new();
                space.insert("json".into(), value.to_string().into());
                out.insert("space".into(), space.into());
            }
            "trialCommand" => {
                let command = string(key, value)?;
                // NNI runs the command through bash in the code directory.
                trial.insert("command".into(), toml::Value::Array(vec!["bash".into(), "-c".into(), command.into()]));
            }
            "trialCodeDirectory" => {
                trial.insert("directory".into(), string(key, value)?.into());
            }
            "trialConcurrency" => {
                out.insert("concurrency".into(), (positive(key, value)? as i64).into());
            }
            "maxTrialNumber" => {
                out.insert("max_trials".into(), (positive(key, value)? as i64).into());
            }
            "maxExperimentDuration" => {
                out.insert("max_duration".into(), format!("{}s", seconds(key, value)?).into());
            }
            "maxTrialDuration" => {
                trial.insert("timeout".into(), format!("{}s", seconds(key, value)?).into());
            }
            "trialGpuNumber" => {
                gpu_number = value
                    .as_u64()
                    .with_context(|| format!("{key}: {value} is not a whole number ≥ 0"))?;
                if gpu_number > 1 {
                    bail!("{key}: {gpu_number}: archon gives a trial one GPU (set 0 or 1)");
                }
            }
            "tuner" | "advisor" => {
                if out.contains_key("tuner") {
                    bail!("{key}: give a tuner or an advisor, not both (NNI refuses both too)");
                }
                let section = object(key, value)?;
                let (name, args, mode) = algorithm(key, section)?;
                let (plugin, options) = match name {
                    Named::Builtin(name) => {
                        if names::is_batch_tuner(&name) {
                            trial.insert("batch".into(), true.into());
                        }
                        names::tuner(key, &name, &args)?
                    }
                    Named::Class { class, code } if key == "tuner" => {
                        ("python".to_string(), python_class(class, code, args, mode.as_deref()))
                    }
                    Named::Class { .. } => bail!(
                        "{key}.className: archon does not run Python advisor classes; a Python \
                         tuner class runs as `tuner: {{className, codeDirectory, classArgs}}`"
                    ),
                };
                agree(&mut direction, mode, key)?;
                let mut tuner = toml::Table::new();
                tuner.insert("name".into(), plugin.into());
                tuner.insert("options".into(), to_toml(&Value::Object(options))?);
                out.insert("tuner".into(), tuner.into());
            }
            "assessor" => {
                let (name, args, mode) = algorithm(key, object(key, value)?)?;
                let assessor = match name {
                    Named::Builtin(name) => names::assessor(key, &name, &args)?,
                    Named::Class { class, code } => {
                        let mut keys = Map::new();
                        keys.insert("name".into(), "python".into());
                        keys.extend(python_class(class, code, args, mode.as_deref()));
                        keys
                    }
                };
                agree(&mut direction, mode, key)?;
                out.insert("assessor".into(), to_toml(&Value::Object(assessor))?);
            }
            "trainingService" => {
                let Value::Object(ts) = value else {
                    bail!("{key}: archon runs one training service (a mapping with `platform: local`), found {value}");
                };
                gpus = local_service(ts, &mut ignored)?;
            }
            "useAnnotation" if value == &Value::Bool(false) => {}
            "useAnnotation" => bail!("{key}: NNI annotations in trial code are not read by archon; report with nni.report_final_result"),
            "multiPhase" | "multiThread" if value == &Value::Bool(false) => {}
            "multiPhase" => bail!("{key}: a trial gets one parameter set (NNI itself refuses multiPhase since 2.3)"),
            "multiThread" => bail!("{key}: archon's tuners are called from one thread"),
            "sharedStorage" => bail!("{key}: archon's trials read their code where it is (no NFS or Azure blob mount)"),
            "experimentType" if value.as_str() != Some("hpo") => bail!("{key}: {value}: archon reads NNI's HPO experiments (a NAS experiment in NNI's Python API has no config file)"),
            _ => match NO_EFFECT.iter().find(|(k, _)| k == key) {
                Some(_) if value == &Value::Bool(false) => {} // off: nothing asked
                Some((k, why)) => ignored.push(format!("{k}: no effect ({why})")),
                None => bail!("{key}: not a key of NNI's experiment config that archon knows"),
            },
        }
    }
    if !out.contains_key("space") {
        bail!("searchSpaceFile: missing (or give searchSpace inline)");
    }
    if !trial.contains_key("command") {
        bail!("trialCommand: missing (the command that runs one trial)");
    }
    if !out.contains_key("concurrency") {
        bail!("trialConcurrency: missing (how many trials run at once)");
    }
    if !out.contains_key("tuner") {
        bail!(
            "tuner: missing (e.g. `tuner: {{name: TPE, classArgs: {{optimize_mode: maximize}}}}`)"
        );
    }
    if !out.contains_key("max_trials") {
        // NNI runs until maxExperimentDuration, or until the tuner has nothing more.
        out.insert("max_trials".into(), 1_000_000.into());
    }
    if gpu_number == 1 {
        let Some(gpus) = gpus.filter(|g| !g.is_empty()) else {
            bail!("trialGpuNumber: 1 needs trainingService.gpuIndices (the GPUs archon may give trials)");
        };
        service.insert(
            "gpus".into(),
            toml::Value::Array(gpus.into_iter().map(|g| (g as i64).into()).collect()),
        );
    }
    let (mode, _) = direction.unwrap_or_else(|| ("maximize".into(), "default"));
    out.insert("direction".into(), mode.into());
    out.insert("trial".into(), trial.into());
    if !service.is_empty() {
        out.insert("training_service".into(), service.into());
    }
    let toml = format!(
        "# Converted from an NNI experiment config by archon.\n{}",
        toml::to_string(&out).context("internal: writing the converted config")?
    );
    Ok(Converted { toml, ignored })
}

/// NNI's local training service: `platform: local`, its GPUs; other platforms refused.
fn local_service(ts: &Map<String, Value>, ignored: &mut Vec<String>) -> Result<Option<Vec<u32>>> {
    let mut gpus = None;
    for (k, v) in ts {
        match k.as_str() {
            "platform" if v.as_str() == Some("local") => {}
            "platform" => bail!(
                "trainingService.platform: {v}: archon runs trials on the local machine or on Slurm \
                 (`training_service.kind = \"slurm\"` in an archon config); NNI's remote, OpenPAI, \
                 Kubeflow, FrameworkController, AML, DLC and hybrid platforms are not run"
            ),
            "gpuIndices" => gpus = Some(gpu_indices(v)?),
            "useActiveGpu" => ignored.push("trainingService.useActiveGpu: no effect (archon gives trials the listed GPUs whatever else runs on them)".into()),
            "maxTrialNumberPerGpu" if v.as_u64() == Some(1) => {}
            "maxTrialNumberPerGpu" => bail!("trainingService.maxTrialNumberPerGpu: {v}: archon runs one trial per GPU at a time"),
            "reuseMode" => ignored.push("trainingService.reuseMode: no effect on the local platform".into()),
            _ => bail!("trainingService.{k}: not a key of NNI's local training service"),
        }
    }
    if !ts.contains_key("platform") {
        bail!("trainingService.platform: missing (archon runs `local`)");
    }
    Ok(gpus)
}

/// NNI's `gpuIndices`: a list, one number, or a comma-separated string.
fn gpu_indices(v: &Value) -> Result<Vec<u32>> {
    let bad = || anyhow::anyhow!("trainingService.gpuIndices: {v} is not a list of GPU indices");
    let index = |x: &Value| {
        x.as_u64()
            .and_then(|g| u32::try_from(g).ok())
            .ok_or_else(bad)
    };
    match v {
        Value::Number(_) => Ok(vec![index(v)?]),
        Value::String(s) => s
            .split(',')
            .map(|p| p.trim().parse::<u32>().map_err(|_| bad()))
            .collect(),
        Value::Array(a) => a.iter().map(index).collect(),
        _ => Err(bad()),
    }
}

/// What a tuner, advisor or assessor section names.
enum Named {
    /// A built-in (`name`).
    Builtin(String),
    /// A user's Python class (`className`, `codeDirectory`).
    Class {
        /// `module.Class`.
        class: String,
        /// Its code directory, if given.
        code: Option<String>,
    },
}

/// A class of your own (an NNI tuner or assessor) as archon's `python` tuner options or
/// `python` assessor keys: `class_name`, `code_directory` and `classArgs` as they are
/// (with its `optimize_mode` back in them, as NNI passes it).
fn python_class(
    class: String,
    code: Option<String>,
    mut args: Map<String, Value>,
    mode: Option<&str>,
) -> Map<String, Value> {
    if let Some(mode) = mode {
        args.insert("optimize_mode".into(), mode.into());
    }
    let mut keys = Map::new();
    keys.insert("class_name".into(), class.into());
    keys.insert(
        "code_directory".into(),
        code.unwrap_or_else(|| ".".into()).into(),
    );
    keys.insert("class_args".into(), Value::Object(args));
    keys
}

/// A tuner's, advisor's or assessor's name (or class), its classArgs without
/// `optimize_mode`, and that mode.
fn algorithm(
    key: &str,
    s: &Map<String, Value>,
) -> Result<(Named, Map<String, Value>, Option<String>)> {
    let mut name = None;
    let mut class = None;
    let mut code = None;
    let mut args = Map::new();
    for (k, v) in s {
        match k.as_str() {
            "name" => name = Some(string(&format!("{key}.name"), v)?),
            "classArgs" if v.is_null() => {}
            "classArgs" => args = object(&format!("{key}.classArgs"), v)?.clone(),
            "className" => class = Some(string(&format!("{key}.className"), v)?),
            "codeDirectory" => code = Some(string(&format!("{key}.codeDirectory"), v)?),
            "gpuIndices" => {} // the tuner's GPUs (v1): archon's tuners run on the CPU
            "includeIntermediateResults" if v == &Value::Bool(false) => {}
            "includeIntermediateResults" => bail!(
                "{key}.includeIntermediateResults: archon's tuners learn from final results only"
            ),
            _ => bail!("{key}.{k}: not a key of NNI's {key} section (name, classArgs)"),
        }
    }
    if code.is_some() && class.is_none() {
        bail!("{key}.codeDirectory: only with className (a built-in {key} has no code of yours)");
    }
    let name = match (name, class) {
        (Some(_), Some(_)) => {
            bail!("{key}: give a built-in `name` or a `className`, not both (NNI refuses both too)")
        }
        (Some(name), None) => Named::Builtin(name),
        (None, Some(class)) => Named::Class { class, code },
        (None, None) => {
            bail!("{key}.name: missing (a built-in name, or className for your own class)")
        }
    };
    let mode = match args.remove("optimize_mode") {
        None => None,
        Some(Value::String(m)) if m == "maximize" || m == "minimize" => Some(m),
        Some(other) => bail!(
            "{key}.classArgs.optimize_mode: {other} (NNI's are \"maximize\" and \"minimize\")"
        ),
    };
    Ok((name, args, mode))
}

/// Records `mode` (from section `key`) as the direction; two sections must agree.
fn agree<'k>(
    direction: &mut Option<(String, &'k str)>,
    mode: Option<String>,
    key: &'k str,
) -> Result<()> {
    let Some(mode) = mode else { return Ok(()) };
    match direction {
        Some((seen, from)) if *seen != mode => bail!(
            "{key}.classArgs.optimize_mode: {mode:?}, but {from}.classArgs.optimize_mode is {seen:?}"
        ),
        Some(_) => Ok(()),
        None => {
            *direction = Some((mode, key));
            Ok(())
        }
    }
}

/// NNI's durations: seconds as a number, or a number with one unit of s, m, h, d.
fn seconds(key: &str, v: &Value) -> Result<u64> {
    let bad = || {
        anyhow::anyhow!("{key}: {v} is not a duration (NNI's form: 30s, 10m, 2h, 1d, or seconds)")
    };
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    let text = v.as_str().ok_or_else(bad)?.trim();
    // The last character is the unit (split at a character boundary: `10µ` is text too).
    let split = text.char_indices().last().map_or(0, |(i, _)| i);
    let (number, unit) = text.split_at(split);
    let factor = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return text.parse::<u64>().map_err(|_| bad()),
    };
    let n: f64 = number.trim().parse().map_err(|_| bad())?;
    if !(n.is_finite() && n > 0.0) {
        return Err(bad());
    }
    Ok((n * factor).round().max(1.0) as u64)
}

fn string(key: &str, v: &Value) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .with_context(|| format!("{key}: expected text, found {v}"))
}

fn positive(key: &str, v: &Value) -> Result<u64> {
    v.as_u64()
        .filter(|&n| n >= 1)
        .with_context(|| format!("{key}: {v} is not a whole number ≥ 1"))
}

fn object<'a>(key: &str, v: &'a Value) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .with_context(|| format!("{key}: expected a mapping of keys, found {v}"))
}

/// An NNI experiment name as an archon one (a safe folder name).
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(archon_core::spec::name::MAX_LEN)
        .collect();
    if s.is_empty() {
        "nni".into()
    } else {
        s
    }
}

/// JSON as TOML (NNI's classArgs may hold no nulls: TOML has none).
fn to_toml(v: &Value) -> Result<toml::Value> {
    toml::Value::try_from(v).map_err(|e| anyhow::anyhow!("classArgs: {v}: {e} (TOML has no null)"))
}

#[cfg(test)]
mod tests;
