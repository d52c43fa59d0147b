//! The Python subprocess hosting a user's NNI class (a tuner for the `python` plugin,
//! an assessor for the experiment manager): started, asked one request at a time (a
//! JSON line each way) with a time limit, and killed when it fails or is dropped. The
//! Python side is `nni.runtime.tuner_bridge` / `nni.runtime.assessor_bridge` in the
//! `nni` package archon ships; the protocol is in PLUGINS.md.

use archon_plugin_api::{PluginError, Result};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Lines of the class's stderr kept for error messages.
const TAIL: usize = 8;

/// Which kind of NNI class the process hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An `nni.tuner.Tuner` subclass.
    Tuner,
    /// An `nni.assessor.Assessor` subclass.
    Assessor,
}

impl Role {
    /// "tuner" or "assessor", for messages.
    pub fn word(self) -> &'static str {
        match self {
            Role::Tuner => "tuner",
            Role::Assessor => "assessor",
        }
    }

    /// The Python module that hosts the class.
    fn module(self) -> &'static str {
        match self {
            Role::Tuner => "nni.runtime.tuner_bridge",
            Role::Assessor => "nni.runtime.assessor_bridge",
        }
    }

    /// The variables naming the class and holding its arguments.
    fn variables(self) -> (&'static str, &'static str) {
        match self {
            Role::Tuner => ("ARCHON_TUNER_CLASS", "ARCHON_TUNER_ARGS"),
            Role::Assessor => ("ARCHON_ASSESSOR_CLASS", "ARCHON_ASSESSOR_ARGS"),
        }
    }
}

/// Why `class` is not NNI's `className` form `MODULE.CLASS`, if it is not.
pub fn check_class_name(class: &str) -> std::result::Result<(), String> {
    if class.is_empty() {
        return Err("is missing: name the class as MODULE.CLASS (NNI's className), e.g. \"my_tuner.MyTuner\"".into());
    }
    if !class.contains('.') || class.starts_with('.') || class.ends_with('.') {
        return Err(format!(
            "{class:?}: write MODULE.CLASS (NNI's className), e.g. \"my_tuner.MyTuner\""
        ));
    }
    Ok(())
}

/// Why `seconds` is not a time limit for one call, if it is not.
pub fn check_timeout(seconds: f64) -> std::result::Result<(), String> {
    if seconds > 0.0 && seconds <= 1e9 {
        Ok(())
    } else {
        Err(format!(
            "must be a positive number of seconds (at most 1e9), found {seconds}"
        ))
    }
}

/// How to start the class.
pub struct Launch<'a> {
    /// What the class is.
    pub role: Role,
    /// The interpreter.
    pub python: &'a str,
    /// NNI's `className`: `module.Class`.
    pub class_name: &'a str,
    /// Its `classArgs`.
    pub class_args: &'a Map<String, Value>,
    /// `ARCHON_SEED` for the process (Python's `random` is seeded with it).
    pub seed: Option<u64>,
    /// Its code directory (its working folder, first on `sys.path`).
    pub code_directory: &'a Path,
    /// The folder holding archon's `nni` package.
    pub python_path: Option<&'a Path>,
    /// Where its stderr is copied (appended), if anywhere.
    pub log: Option<PathBuf>,
    /// The longest a request may take.
    pub timeout: Duration,
}

/// A running class.
pub struct Bridge {
    class_name: String,
    role: Role,
    child: Child,
    stdin: Option<ChildStdin>,
    replies: mpsc::Receiver<String>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    timeout: Duration,
}

impl Bridge {
    /// Starts the class and waits until it is created.
    pub fn start(launch: &Launch<'_>) -> Result<Bridge> {
        let mut path: Vec<String> = Vec::new();
        if let Some(p) = launch.python_path {
            path.push(p.display().to_string());
        }
        path.push(launch.code_directory.display().to_string());
        if let Some(rest) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
            path.push(rest.to_string_lossy().into_owned());
        }
        let mut command = Command::new(launch.python);
        if let Some(seed) = launch.seed {
            command.env("ARCHON_SEED", seed.to_string());
        }
        let (class_variable, args_variable) = launch.role.variables();
        let mut child = command
            .args(["-u", "-m", launch.role.module()])
            .current_dir(launch.code_directory)
            .env("PYTHONPATH", path.join(":"))
            .env(class_variable, launch.class_name)
            .env(
                args_variable,
                Value::Object(launch.class_args.clone()).to_string(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                PluginError::invalid_input(format!(
                    "\"python\": cannot run {:?} for the {} class {}: {e}",
                    launch.python,
                    launch.role.word(),
                    launch.class_name
                ))
            })?;
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr_tail);
        let mut log = launch.log.as_ref().and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        std::thread::spawn(move || {
            // Bytes, not text: a line that is not UTF-8 must not stop the draining (a
            // full pipe would block the class).
            let mut reader = BufReader::new(stderr);
            let mut bytes = Vec::new();
            while matches!(reader.read_until(b'\n', &mut bytes), Ok(n) if n > 0) {
                let line = String::from_utf8_lossy(&bytes).trim_end().to_string();
                bytes.clear();
                if let Some(f) = log.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                if let Ok(mut t) = tail.lock() {
                    if t.len() == TAIL {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            }
        });
        let mut bridge = Bridge {
            class_name: launch.class_name.to_string(),
            role: launch.role,
            stdin: child.stdin.take(),
            child,
            replies,
            stderr_tail,
            timeout: launch.timeout,
        };
        bridge.reply("starting it")?;
        Ok(bridge)
    }

    /// Sends one request (`op` and its fields) and returns the reply, or the error the
    /// class raised (`no_more_trials` replies come back as they are).
    pub fn request(
        &mut self,
        op: &str,
        mut fields: Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        fields.insert("op".into(), op.into());
        let line = Value::Object(fields).to_string() + "\n";
        let sent = self
            .stdin
            .as_mut()
            .map(|s| s.write_all(line.as_bytes()).and_then(|()| s.flush()));
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.dead(op));
        }
        self.reply(op)
    }

    /// The next reply; a failure reply is an error unless it is "no more trials".
    fn reply(&mut self, during: &str) -> Result<Map<String, Value>> {
        let line = match self.replies.recv_timeout(self.timeout) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(PluginError::internal(format!(
                    "the Python {} {} did not answer {during} within {} s; it was stopped{}",
                    self.role.word(),
                    self.class_name,
                    self.timeout.as_secs_f64(),
                    self.stderr_text()
                )));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(self.dead(during)),
        };
        let Ok(Value::Object(reply)) = serde_json::from_str::<Value>(&line) else {
            return Err(PluginError::internal(format!(
                "the Python {} {}'s bridge answered {during} with {line:?}, not a JSON object",
                self.role.word(),
                self.class_name
            )));
        };
        if reply.get("ok") == Some(&Value::Bool(true))
            || reply.get("no_more_trials") == Some(&Value::Bool(true))
        {
            return Ok(reply);
        }
        let error = reply
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        Err(PluginError::invalid_input(format!(
            "the Python {} {} failed in {during}: {error}",
            self.role.word(),
            self.class_name
        )))
    }

    /// The error for a process that is gone: its exit and its last stderr lines.
    fn dead(&mut self, during: &str) -> PluginError {
        // Let the stderr reader catch up with the last lines.
        let status = (0..50).find_map(|_| match self.child.try_wait() {
            Ok(Some(s)) => Some(s.to_string()),
            _ => {
                std::thread::sleep(Duration::from_millis(20));
                None
            }
        });
        std::thread::sleep(Duration::from_millis(50));
        PluginError::internal(format!(
            "the Python {} {} exited during {during} ({}){}",
            self.role.word(),
            self.class_name,
            status.unwrap_or_else(|| "still running, not reading".into()),
            self.stderr_text()
        ))
    }

    /// "; its last lines on stderr: …" (empty when it wrote none).
    fn stderr_text(&self) -> String {
        let lines: Vec<String> = self
            .stderr_tail
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        if lines.is_empty() {
            String::new()
        } else {
            format!("; its last lines on stderr:\n  {}", lines.join("\n  "))
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Closing stdin ends the bridge's loop; a class that does not stop is killed.
        self.stdin = None;
        for _ in 0..25 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
