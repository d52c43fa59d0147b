//! NNI's trial environment, so that trial code written against NNI's API
//! (`nni.get_next_parameter()`, `nni.report_final_result(...)`) runs unchanged: the `nni`
//! Python package archon ships (`python/nni` in the repository, embedded in the binary)
//! is written into the experiment's folder and put first on the trial's `PYTHONPATH`
//! (a user's own `nni` install is shadowed for the trial, not changed), and NNI's
//! variables are set as NNI's local platform sets them.

use anyhow::{Context, Result};
use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

/// One file of the package: its path under `nni/` and its text.
macro_rules! nni_file {
    ($path:literal) => {
        ($path, include_str!(concat!("../../../python/nni/", $path)))
    };
}

/// The package's files.
const FILES: &[(&str, &str)] = &[
    nni_file!("__init__.py"),
    nni_file!("assessor.py"),
    nni_file!("parameter_expressions.py"),
    nni_file!("recoverable.py"),
    nni_file!("runtime/__init__.py"),
    nni_file!("runtime/archon.py"),
    nni_file!("runtime/assessor_bridge.py"),
    nni_file!("runtime/class_host.py"),
    nni_file!("runtime/env_vars.py"),
    nni_file!("runtime/log.py"),
    nni_file!("runtime/tuner_bridge.py"),
    nni_file!("trial.py"),
    nni_file!("tuner.py"),
    nni_file!("typehint.py"),
    nni_file!("utils.py"),
];

/// Where the package and the search space of one experiment live.
#[derive(Debug, Clone)]
pub struct NniTrial {
    /// The folder put on `PYTHONPATH` (it holds `nni/`).
    python_dir: PathBuf,
    /// The experiment's search space as NNI JSON (`ARCHON_SEARCH_SPACE_FILE`: the `nni`
    /// module tells a `_name` candidate without sub-parameters from a plain choice by it).
    space_file: PathBuf,
}

impl NniTrial {
    /// Writes the package and `space_json` into `experiment_dir` (again at every start,
    /// so that an upgraded archon brings its own; each file replaced atomically, since a
    /// trial of an earlier manager may still be reading it).
    pub fn install(experiment_dir: &Path, space_json: &str) -> Result<Self> {
        let python_dir = experiment_dir.join("python");
        for (path, text) in FILES {
            write_atomically(&python_dir.join("nni").join(path), text)?;
        }
        let space_file = experiment_dir.join("search_space.json");
        write_atomically(&space_file, space_json)?;
        Ok(NniTrial {
            python_dir,
            space_file,
        })
    }

    /// The folder that holds the `nni` package (what goes on `PYTHONPATH`).
    pub fn python_dir(&self) -> &Path {
        &self.python_dir
    }

    /// The variables of trial `id`: NNI's (`NNI_PLATFORM`, `NNI_EXP_ID`,
    /// `NNI_TRIAL_JOB_ID`, `NNI_TRIAL_SEQ_ID`, `NNI_SYS_DIR`, `NNI_OUTPUT_DIR`,
    /// `NNI_CODE_DIR`), the search space's file, and `PYTHONPATH` with the package first
    /// (`inherited`: the manager's own `PYTHONPATH`, kept after it).
    pub fn env(
        &self,
        experiment_id: &str,
        id: u64,
        trial_dir: &Path,
        code_dir: &Path,
        inherited: Option<OsString>,
    ) -> Vec<(String, String)> {
        let mut python_path = self.python_dir.display().to_string();
        if let Some(rest) = inherited.filter(|p| !p.is_empty()) {
            python_path.push(':');
            python_path.push_str(&rest.to_string_lossy());
        }
        let dir = trial_dir.display().to_string();
        [
            ("NNI_PLATFORM", "local".to_string()),
            ("NNI_EXP_ID", experiment_id.to_string()),
            ("NNI_TRIAL_JOB_ID", id.to_string()),
            ("NNI_TRIAL_SEQ_ID", id.to_string()),
            ("NNI_SYS_DIR", dir.clone()),
            ("NNI_OUTPUT_DIR", dir),
            ("NNI_CODE_DIR", code_dir.display().to_string()),
            (
                "ARCHON_SEARCH_SPACE_FILE",
                self.space_file.display().to_string(),
            ),
            ("PYTHONPATH", python_path),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().context("a file has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_is_written_and_first_on_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let nni =
            NniTrial::install(dir.path(), r#"{"x": {"_type": "choice", "_value": [1]}}"#).unwrap();
        assert!(dir.path().join("python/nni/__init__.py").is_file());
        assert!(dir.path().join("python/nni/runtime/archon.py").is_file());
        let env = nni.env(
            "exp-1",
            7,
            Path::new("/runs/exp-1/trials/7"),
            Path::new("/code"),
            Some("/user/lib".into()),
        );
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let python_dir = dir.path().join("python").display().to_string();
        assert_eq!(
            get("PYTHONPATH"),
            Some(format!("{python_dir}:/user/lib").as_str())
        );
        assert_eq!(get("NNI_TRIAL_SEQ_ID"), Some("7"));
        assert_eq!(get("NNI_SYS_DIR"), Some("/runs/exp-1/trials/7"));
        assert_eq!(get("NNI_CODE_DIR"), Some("/code"));
        let space = std::fs::read_to_string(get("ARCHON_SEARCH_SPACE_FILE").unwrap()).unwrap();
        assert!(space.contains("choice"));
        // An empty inherited PYTHONPATH adds no empty entry (which would mean the cwd).
        let env = nni.env("e", 0, Path::new("/t"), Path::new("/c"), Some("".into()));
        let path = env.iter().find(|(k, _)| k == "PYTHONPATH").unwrap();
        assert_eq!(path.1, python_dir);
    }
}
