//! The `python` tuner with real Python classes (python3 and the repository's `nni`
//! package), through the same adapter a loaded plugin uses.

use crate::PythonTuner;
use archon_plugin_api::TunerClient;
use serde_json::{json, Value};
use std::time::Instant;
use tempfile::TempDir;

const TUNERS: &str = r#"
import os, sys, time
import nni
from nni.tuner import Tuner

class Counting(Tuner):
    """Proposes x = 1, 2, 3 with op "b", then no more; remembers what it was told."""
    def __init__(self, optimize_mode='maximize', start=0):
        self.cur = start
        self.told = []
        self.imported = 0
        print('this print must not break the protocol')
    def update_search_space(self, search_space):
        self.space = search_space
    def generate_parameters(self, parameter_id, **kwargs):
        self.cur += 1
        if self.cur > 3:
            raise nni.NoMoreTrialError('all three proposed')
        # The number of results imported or told so far rides along in lr.
        return {'x': self.cur, 'op': 'b', 'lr': 0.001 * (1 + self.imported + len(self.told))}
    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        assert parameters['op'] == 'b' and isinstance(parameters['x'], int), parameters
        assert value['default'] == 0.5 and value['extra'] == 7, value
        self.told.append(parameter_id)
    def import_data(self, data):
        self.imported += len(data)

class Raising(Tuner):
    def update_search_space(self, search_space):
        pass
    def generate_parameters(self, parameter_id, **kwargs):
        return {'x': 1, 'op': 'b', 'lr': 1 / 0}

class Hanging(Tuner):
    def update_search_space(self, search_space):
        pass
    def generate_parameters(self, parameter_id, **kwargs):
        time.sleep(60)

class Exiting(Tuner):
    def update_search_space(self, search_space):
        pass
    def generate_parameters(self, parameter_id, **kwargs):
        sys.stderr.write('about to leave\n')
        sys.stderr.flush()
        os._exit(3)

class OutOfSpace(Tuner):
    def update_search_space(self, search_space):
        pass
    def generate_parameters(self, parameter_id, **kwargs):
        return {'x': 99, 'op': 'b', 'lr': 0.01}
"#;

const SPACE: &str = r#"{"x": {"_type": "randint", "_value": [1, 10]},
                        "op": {"_type": "choice", "_value": ["a", "b"]},
                        "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]}}"#;

/// A folder holding `tuners.py`, and `python/` (a link to the repository's `nni`
/// package) as an experiment's folder holds it (the class's log goes beside it).
fn code() -> TempDir {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("tuners.py"), TUNERS).unwrap();
    std::os::unix::fs::symlink(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../python"),
        dir.path().join("python"),
    )
    .unwrap();
    dir
}

fn options(dir: &TempDir, class: &str, extra: Value) -> String {
    let mut o = json!({
        "class_name": format!("tuners.{class}"),
        "code_directory": dir.path().display().to_string(),
        "python_path": dir.path().join("python").display().to_string(),
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o.to_string()
}

fn tuner(dir: &TempDir, class: &str) -> TunerClient {
    let mut t = TunerClient::in_process::<PythonTuner>(&options(dir, class, json!({}))).unwrap();
    t.update_search_space(SPACE).unwrap();
    t
}

fn error(t: &mut TunerClient) -> String {
    t.generate_parameters(0).unwrap_err().message().to_string()
}

#[test]
fn a_python_class_proposes_learns_and_says_when_it_is_done() {
    let dir = code();
    let mut t = tuner(&dir, "Counting");
    for id in 0..3 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        // NNI's HPO form came back as archon's, indices found in the space.
        assert_eq!(p["x"], json!({"_value": id + 1, "_idx": id}), "{p}");
        assert_eq!(p["op"], json!({"_value": "b", "_idx": 1}), "{p}");
        t.receive_trial_result(id, &p.to_string(), r#"{"default": 0.5, "extra": 7}"#)
            .unwrap();
        t.trial_end(id, true).unwrap();
    }
    assert!(
        t.generate_parameters(3).unwrap().is_none(),
        "no more trials"
    );
    drop(t);
    // The class's prints went to the log beside the package, not into the protocol.
    let log = std::fs::read_to_string(dir.path().join("python-tuner.log")).unwrap();
    assert!(
        log.contains("this print must not break the protocol"),
        "{log}"
    );
}

#[test]
fn a_restored_class_is_told_the_results_so_far_through_import_data() {
    let dir = code();
    let mut t = tuner(&dir, "Counting");
    for id in 0..2 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        t.receive_trial_result(id, &p.to_string(), r#"{"default": 0.5, "extra": 7}"#)
            .unwrap();
    }
    let state = t.save_state().unwrap();
    let mut resumed = tuner(&dir, "Counting");
    resumed.load_state(&state).unwrap();
    let p = resumed.generate_parameters(2).unwrap().unwrap();
    // Two results imported: lr = 0.001 · (1 + 2).
    assert!(
        (p["lr"]["_value"].as_f64().unwrap() - 0.003).abs() < 1e-12,
        "{p}"
    );
}

#[test]
fn failures_of_the_class_are_clear_errors_and_never_hang() {
    let dir = code();
    let e = error(&mut tuner(&dir, "Raising"));
    assert!(
        e.contains(
            "the Python tuner tuners.Raising failed in generate_parameters: ZeroDivisionError"
        ) && e.contains("tuners.py"),
        "{e}"
    );
    let e = error(&mut tuner(&dir, "OutOfSpace"));
    assert!(
        e.contains("tuners.OutOfSpace failed in generate_parameters: ValueError: x: 99 is outside the randint's range [1, 10)"),
        "{e}"
    );
    let e = error(&mut tuner(&dir, "Exiting"));
    assert!(
        e.contains("exited during generate_parameters") && e.contains("about to leave"),
        "{e}"
    );
    let mut hanging =
        TunerClient::in_process::<PythonTuner>(&options(&dir, "Hanging", json!({"timeout": 1.0})))
            .unwrap();
    hanging.update_search_space(SPACE).unwrap();
    let start = Instant::now();
    let e = error(&mut hanging);
    assert!(
        e.contains("did not answer generate_parameters within 1 s; it was stopped"),
        "{e}"
    );
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

#[test]
fn classes_that_cannot_be_created_and_bad_options_are_refused_by_name() {
    let dir = code();
    for (class, extra, words) in [
        (
            "Nope",
            json!({}),
            "creating tuners.Nope: ValueError: className 'tuners.Nope': tuners has no Nope",
        ),
        (
            "Counting",
            json!({"class_args": {"no_such_arg": 1}}),
            "creating tuners.Counting: TypeError",
        ),
        (
            "Counting",
            json!({"class_name": ""}),
            "\"class_name\" is missing",
        ),
        (
            "Counting",
            json!({"class_name": "Counting"}),
            "write MODULE.CLASS",
        ),
        (
            "Counting",
            json!({"code_directory": "/no/such/dir"}),
            "\"code_directory\" /no/such/dir is not a folder",
        ),
        (
            "Counting",
            json!({"timeout": 0}),
            "\"timeout\" must be a positive number",
        ),
        (
            "Counting",
            json!({"python": "/no/python3"}),
            "cannot run \"/no/python3\"",
        ),
    ] {
        let e = TunerClient::in_process::<PythonTuner>(&options(&dir, class, extra.clone()))
            .err()
            .unwrap_or_else(|| panic!("{class} {extra} was accepted"));
        assert!(e.message().contains(words), "{class} {extra}: {e}");
    }
}
