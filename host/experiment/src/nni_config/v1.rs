//! NNI's legacy (v1) experiment config, converted to v2 the way NNI converts it
//! (`authorName`, `maxExecDuration`, `trainingServicePlatform`, `searchSpacePath`,
//! `trial: {command, codeDir, gpuNum}`, `localConfig`, `builtinTunerName`, …).

use super::object;
use anyhow::{bail, Result};
use serde_json::{Map, Value};

/// Whether `config` is in the v1 format (it has a key only v1 has).
pub fn is_v1(config: &Map<String, Value>) -> bool {
    [
        "trainingServicePlatform",
        "searchSpacePath",
        "maxExecDuration",
        "maxTrialNum",
        "trial",
        "authorName",
        "localConfig",
    ]
    .iter()
    .any(|k| config.contains_key(*k))
}

/// The v2 twin of a v1 config; keys v1 has and v2 lacks keep their v1 name, so that the
/// v2 reader refuses them by name.
pub fn to_v2(v1: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut v2 = Map::new();
    let mut service = Map::new();
    for (key, value) in v1 {
        let renamed = match key.as_str() {
            "authorName" | "logCollection" | "versionCheck" => continue, // no effect in v2 either
            "maxExecDuration" => "maxExperimentDuration",
            "maxTrialNum" => "maxTrialNumber",
            "searchSpacePath" => "searchSpaceFile",
            "logDir" => "experimentWorkingDirectory",
            "trainingServicePlatform" => {
                service.insert("platform".into(), value.clone());
                continue;
            }
            "localConfig" => {
                let section = object(key, value)?;
                for (k, v) in section {
                    let k2 = match k.as_str() {
                        "gpuIndices" => "gpuIndices",
                        "maxTrialNumPerGpu" => "maxTrialNumberPerGpu",
                        "useActiveGpu" => "useActiveGpu",
                        _ => bail!("localConfig.{k}: not a key of NNI's local platform (gpuIndices, maxTrialNumPerGpu, useActiveGpu)"),
                    };
                    service.insert(k2.into(), v.clone());
                }
                continue;
            }
            "trial" => {
                for (k, v) in object(key, value)? {
                    let k2 = match k.as_str() {
                        "command" => "trialCommand",
                        "codeDir" => "trialCodeDirectory",
                        "gpuNum" => "trialGpuNumber",
                        _ => bail!(
                            "trial.{k}: not a key archon honours (trial takes command, codeDir and gpuNum on the local platform)"
                        ),
                    };
                    v2.insert(k2.into(), v.clone());
                }
                continue;
            }
            "tuner" | "assessor" | "advisor" => {
                v2.insert(
                    key.clone(),
                    Value::Object(algorithm(key, object(key, value)?)?),
                );
                continue;
            }
            other => other, // the same name in v2 (or refused there by it)
        };
        v2.insert(renamed.into(), value.clone());
    }
    if !service.is_empty() {
        v2.insert("trainingService".into(), Value::Object(service));
    }
    Ok(v2)
}

/// A v1 tuner, assessor or advisor section in v2's shape (`name`, `classArgs`,
/// `className` + `codeDirectory`).
fn algorithm(section: &str, v1: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut v2 = Map::new();
    let mut class_file = None;
    let mut class_name = None;
    for (k, v) in v1 {
        match k.as_str() {
            "builtinTunerName" | "builtinAssessorName" | "builtinAdvisorName" => {
                v2.insert("name".into(), v.clone());
            }
            "classArgs" | "includeIntermediateResults" => {
                v2.insert(k.clone(), v.clone());
            }
            "codeDir" => {
                v2.insert("codeDirectory".into(), v.clone());
            }
            "classFileName" => {
                class_file = v.as_str().map(|s| s.trim_end_matches(".py").to_string())
            }
            "className" => class_name = v.as_str().map(str::to_string),
            "gpuIndices" | "gpuNum" => {
                v2.insert("gpuIndices".into(), v.clone());
            }
            _ => bail!("{section}.{k}: not a key of NNI's {section} section"),
        }
    }
    if let Some(class) = class_name {
        let full = match class_file {
            Some(file) => format!("{file}.{class}"),
            None => class,
        };
        v2.insert("className".into(), Value::String(full));
    }
    Ok(v2)
}
