//! An assessor class of your own in Python (NNI's `assessor: {className, codeDirectory,
//! classArgs}`): a subclass of `nni.assessor.Assessor` hosted in a subprocess
//! (`nni.runtime.assessor_bridge`, through plugin-support's `python_bridge`), asked
//! `assess_trial(trial_job_id, trial_history)` at every intermediate result and told
//! `trial_end(trial_job_id, success)`, as NNI's dispatcher does. A class that fails to
//! load, raises, exits or does not answer in time is an error naming the class and the
//! call (the process is killed; the manager never waits on it).

use super::config::{resolve_relative, AssessorSection};
use anyhow::{anyhow, Result};
use archon_plugin_support::python_bridge::{Bridge, Launch, Role};
use serde_json::{Map, Value};
use std::path::Path;
use std::time::Duration;

/// The running class.
pub struct PythonAssessor {
    bridge: Bridge,
    class: String,
    /// Why it stopped the trial it last stopped.
    reason: String,
}

impl std::fmt::Debug for PythonAssessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonAssessor")
            .field("class", &self.class)
            .finish()
    }
}

impl PythonAssessor {
    /// Starts the class `section` names (checked by the config), its code found from
    /// `config_dir`, with archon's `nni` package in `python_dir`; its stderr goes to
    /// `log`.
    pub fn start(
        section: &AssessorSection,
        config_dir: &Path,
        python_dir: &Path,
        log: &Path,
    ) -> Result<Self> {
        let class = section.class_name.as_deref().unwrap_or_default().trim();
        let code_directory = resolve_relative(
            config_dir,
            section.code_directory.as_deref().unwrap_or(Path::new(".")),
        );
        if !code_directory.is_dir() {
            anyhow::bail!(
                "assessor.code_directory: {} is not a folder (NNI's codeDirectory: where \
                 {class}'s module is)",
                code_directory.display()
            );
        }
        let class_args: Map<String, Value> = match &section.class_args {
            Some(table) => match serde_json::to_value(table)? {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            None => Map::new(),
        };
        let bridge = Bridge::start(&Launch {
            role: Role::Assessor,
            python: section.python.as_deref().unwrap_or("python3"),
            class_name: class,
            class_args: &class_args,
            seed: None,
            code_directory: &code_directory,
            python_path: Some(python_dir),
            log: Some(log.to_path_buf()),
            timeout: Duration::from_secs_f64(section.timeout.unwrap_or(600.0)),
        })
        .map_err(|e| anyhow!("assessor: {}", e.message()))?;
        Ok(PythonAssessor {
            bridge,
            class: class.to_string(),
            reason: String::new(),
        })
    }

    /// Whether trial `id`, with these intermediate results (as reported: numbers or
    /// dicts), should stop.
    pub fn judge(&mut self, id: u64, history: &[Value]) -> Result<bool> {
        let mut fields = Map::new();
        fields.insert("trial_job_id".into(), id.to_string().into());
        fields.insert("trial_history".into(), Value::from(history.to_vec()));
        let reply = self
            .bridge
            .request("assess_trial", fields)
            .map_err(|e| anyhow!("assessor: {}", e.message()))?;
        let good = reply.get("good").and_then(Value::as_bool).unwrap_or(true);
        if !good {
            self.reason = format!(
                "assessor {}: AssessResult.Bad after {} intermediate results",
                self.class,
                history.len()
            );
        }
        Ok(!good)
    }

    /// Trial `id` ended (`success`: it succeeded).
    pub fn trial_end(&mut self, id: u64, success: bool) -> Result<()> {
        let mut fields = Map::new();
        fields.insert("trial_job_id".into(), id.to_string().into());
        fields.insert("success".into(), success.into());
        self.bridge
            .request("trial_end", fields)
            .map(drop)
            .map_err(|e| anyhow!("assessor: {}", e.message()))
    }

    /// Why it stopped the trial it last stopped.
    pub fn reason(&self) -> String {
        self.reason.clone()
    }
}
