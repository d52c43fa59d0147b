//! The `python` tuner: options, and each tuner call as a request to the class.

use archon_plugin_api::{
    plugin_options, Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId,
    PluginError, Result, SearchSpace, Tuner,
};
use archon_plugin_support::python_bridge::{check_class_name, check_timeout, Bridge, Launch, Role};
use archon_plugin_support::{load_state, save_state};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

plugin_options! {
    /// The `python` tuner's options (NNI's `className`, `codeDirectory`, `classArgs`).
    pub struct PythonOptions {
        /// The tuner class, `MODULE.CLASS` (NNI's `className`: `my_tuner.MyTuner` for
        /// the class MyTuner in my_tuner.py of the code directory).
        pub class_name: String = String::new(),
        /// The folder holding the class's code (its working folder, first on
        /// `sys.path`); relative to the config's folder.
        pub code_directory: String = ".".to_string(),
        /// The class's keyword arguments (NNI's `classArgs`).
        pub class_args: Map<String, Value> = Map::new(),
        /// The Python interpreter.
        pub python: String = "python3".to_string(),
        /// Seconds the class may take to answer one call before it is stopped.
        pub timeout: f64 = 600.0,
        /// The experiment's direction (the class takes its own `optimize_mode` in
        /// `class_args`, as in NNI).
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// Given to the class's process as `ARCHON_SEED`; Python's `random` is seeded
        /// with it before the class is created.
        pub seed: Option<u64> = None,
        /// The config's folder (the host sets it).
        pub config_dir: Option<String> = None,
        /// The folder of archon's `nni` package (the host sets it).
        pub python_path: Option<String> = None,
    }
}

/// A Python tuner class (options: [`PythonOptions`]).
pub struct PythonTuner {
    bridge: Bridge,
    space: Option<SearchSpace>,
    /// Every result so far, for `import_data` after a restore.
    history: Vec<Record>,
}

/// One result as NNI's `import_data` takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    /// The parameters (archon's form).
    parameter: Value,
    /// The metric as reported (a number or a dict with `default`).
    value: Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    history: Vec<Record>,
}

fn bad(key: &str, why: String) -> PluginError {
    PluginError::invalid_input(format!("options: \"{key}\" {why}"))
}

impl PythonTuner {
    fn space(&self) -> Result<&SearchSpace> {
        self.space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))
    }
}

fn fields(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

impl Tuner for PythonTuner {
    /// Every type: the class sees NNI's own search space.
    const SUPPORTED_TYPES: &'static [&'static str] = &archon_plugin_api::space::ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = PythonOptions::from_options(options, "python")?;
        let class = options.class_name.trim();
        check_class_name(class).map_err(|why| bad("class_name", why))?;
        check_timeout(options.timeout).map_err(|why| bad("timeout", why))?;
        let base = options
            .config_dir
            .as_deref()
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        let code_directory = base.join(&options.code_directory);
        if !code_directory.is_dir() {
            return Err(bad(
                "code_directory",
                format!(
                    "{} is not a folder (NNI's codeDirectory: where {class}'s module is)",
                    code_directory.display()
                ),
            ));
        }
        let python_path = options.python_path.as_deref().map(Path::new);
        let bridge = Bridge::start(&Launch {
            role: Role::Tuner,
            python: &options.python,
            class_name: class,
            class_args: &options.class_args,
            seed: options.seed,
            code_directory: &code_directory,
            python_path,
            log: python_path
                .and_then(Path::parent)
                .map(|dir| dir.join("python-tuner.log")),
            timeout: Duration::from_secs_f64(options.timeout),
        })?;
        Ok(PythonTuner {
            bridge,
            space: None,
            history: Vec::new(),
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.bridge.request(
            "update_search_space",
            fields(vec![("search_space", space.to_json())]),
        )?;
        self.space = Some(space.clone());
        self.history.clear();
        Ok(())
    }

    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>> {
        let space = self.space()?.clone();
        let reply = self
            .bridge
            .request("generate_parameters", fields(vec![("id", id.into())]))?;
        if reply.get("no_more_trials") == Some(&Value::Bool(true)) {
            return Ok(None);
        }
        let parameters = reply.get("parameters").cloned().unwrap_or(Value::Null);
        Architecture::from_json(&space, &parameters)
            .map(Some)
            .map_err(|e| {
                PluginError::invalid_input(format!(
                    "the Python tuner's parameters for trial {id} do not fit the search space: {}",
                    e.message()
                ))
            })
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        let parameter = parameters.to_json(self.space()?);
        // What the trial reported: a dict with extra keys as it is, else the number.
        let value = match &metric.raw {
            Value::Object(map) if map.keys().any(|k| k != "default") => metric.raw.clone(),
            _ => Value::from(metric.default),
        };
        self.bridge.request(
            "receive_trial_result",
            fields(vec![
                ("id", id.into()),
                ("parameters", parameter.clone()),
                ("value", value.clone()),
            ]),
        )?;
        self.history.push(Record { parameter, value });
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, success: bool) -> Result<()> {
        self.bridge.request(
            "trial_end",
            fields(vec![("id", id.into()), ("success", success.into())]),
        )?;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&Saved {
            history: self.history.clone(),
        })
    }

    /// The class has no saved state of its own (NNI's tuners neither): the results so
    /// far reach it through `import_data`, as NNI resumes a tuner.
    fn load_state(&mut self, state: &Value) -> Result<()> {
        let saved: Saved = load_state("python-tuner", state)?;
        let space = self.space()?.clone();
        for r in &saved.history {
            Architecture::from_json(&space, &r.parameter).map_err(|_| {
                PluginError::invalid_input(
                    "saved state: its architectures do not fit the current search space",
                )
            })?;
        }
        let data = serde_json::to_value(&saved.history)
            .map_err(|e| PluginError::internal(e.to_string()))?;
        self.bridge
            .request("import_data", fields(vec![("data", data)]))?;
        self.history = saved.history;
        Ok(())
    }
}
