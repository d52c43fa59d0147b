//! `python` — a tuner written in Python against NNI's `Tuner` interface (NNI's
//! customised tuners: `className` + `codeDirectory` + `classArgs`), hosted in a
//! subprocess (`python3 -m nni.runtime.tuner_bridge`, shipped in archon's `nni`
//! package) that speaks one JSON object per line (plugin-support's `python_bridge`; the protocol is in
//! PLUGINS.md). The class sees NNI's HPO parameter form and gets `classArgs` as keyword
//! arguments; it may raise `nni.NoMoreTrialError`. A class that fails to load, raises,
//! exits or does not answer within `timeout` seconds is a clear error naming the class
//! and the request, with the last lines it wrote to stderr; the process is killed, the
//! manager never waits on it. On resume the results so far reach the class through
//! `import_data`, as NNI resumes a tuner.

mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{PythonOptions, PythonTuner};

archon_plugin_api::export_plugin! {
    name: "python",
    version: env!("CARGO_PKG_VERSION"),
    description: "A tuner class written in Python against NNI's Tuner interface (NNI's className/codeDirectory/classArgs)",
    options: PythonOptions,
    tuner: PythonTuner,
}
