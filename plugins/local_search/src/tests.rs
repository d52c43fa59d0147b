//! Behaviour of the local search tuner, driven through the same adapter a loaded plugin uses.

use crate::LocalSearchTuner;
use archon_plugin_api::{
    conformance::{
        benchmark::{late_mean_reward, structured_reward, structured_space},
        check_tuner,
    },
    TunerClient,
};
use serde_json::Value;

fn local(options: &str) -> TunerClient {
    TunerClient::in_process::<LocalSearchTuner>(options).unwrap()
}

fn random(seed: u64) -> TunerClient {
    TunerClient::in_process::<archon_random::RandomTuner>(&format!(r#"{{"seed": {seed}}}"#))
        .unwrap()
}

/// How many of the layer choices of two parameter sets differ.
fn edits(a: &Value, b: &Value) -> usize {
    a.as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| b[k.as_str()]["_value"] != v["_value"])
        .count()
}

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<LocalSearchTuner>(options));
    assert!(report.passed(), "{report}");
}

#[test]
fn walks_from_the_best_start_one_edit_at_a_time() {
    let mut t = local(r#"{"seed": 1, "initial": 5}"#);
    t.update_search_space(&structured_space(8)).unwrap();
    let mut best: Option<(Value, f64)> = None;
    for id in 0..60 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        let r = structured_reward(&p);
        if id >= 5 {
            // After the start every proposal is one edit from the best so far (with
            // 8 positions of 6 operations a local optimum is only reached at the top).
            let (b, _) = best.as_ref().unwrap();
            assert_eq!(edits(b, &p), 1, "trial {id}: {p} is not a neighbour of {b}");
        }
        if best.as_ref().is_none_or(|(_, v)| r > *v) {
            best = Some((p.clone(), r));
        }
        t.receive_trial_result(id, &p.to_string(), &r.to_string())
            .unwrap();
        t.trial_end(id, true).unwrap();
    }
}

#[test]
fn beats_random_search_on_a_structured_space() {
    // Deterministic: fixed seeds; the gap is many times the seed spread.
    let (mut l, mut r) = (0.0, 0.0);
    for seed in 0..10 {
        l += late_mean_reward(&mut local(&format!(r#"{{"seed": {seed}}}"#)), 10, 200, 50).unwrap();
        r += late_mean_reward(&mut random(seed), 10, 200, 50).unwrap();
    }
    assert!(
        l / 10.0 > r / 10.0 + 3.0,
        "local {} vs random {}",
        l / 10.0,
        r / 10.0
    );
}

#[test]
fn restarts_at_a_local_optimum_and_never_repeats() {
    // Two binary choices, reward highest at (a0, b0) and a trap at (a1, b1): from the
    // trap both neighbours are worse, so the walk must restart to find the rest.
    let space = r#"{"a": {"_type": "choice", "_value": [0, 1]},
                    "b": {"_type": "choice", "_value": [0, 1]},
                    "c": {"_type": "choice", "_value": [0, 1, 2]}}"#;
    let mut t = local(r#"{"seed": 4, "initial": 1}"#);
    t.update_search_space(space).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut id = 0;
    while let Some(p) = t.generate_parameters(id).unwrap() {
        assert!(seen.insert(p.to_string()), "{p} proposed twice");
        let v = |k: &str| p[k]["_value"].as_f64().unwrap();
        let r = match (v("a"), v("b")) {
            (0.0, 0.0) => 10.0,
            (1.0, 1.0) => 5.0,
            _ => 0.0,
        } + v("c");
        t.receive_trial_result(id, &p.to_string(), &r.to_string())
            .unwrap();
        t.trial_end(id, true).unwrap();
        id += 1;
    }
    assert_eq!(seen.len(), 12, "the whole space, then no more trials");
}

#[test]
fn steps_numbers_toward_a_better_value() {
    let space = r#"{"x": {"_type": "uniform", "_value": [0, 10]},
                    "lr": {"_type": "loguniform", "_value": [0.0001, 1.0]}}"#;
    let (mut l, mut r) = (0.0, 0.0);
    for seed in 0..10 {
        for (tuner, total) in [
            (local(&format!(r#"{{"seed": {seed}}}"#)), &mut l),
            (random(seed), &mut r),
        ] {
            let mut tuner = tuner;
            tuner.update_search_space(space).unwrap();
            let mut best = f64::NEG_INFINITY;
            for id in 0..60 {
                let p = tuner.generate_parameters(id).unwrap().unwrap();
                let x = p["x"]["_value"].as_f64().unwrap();
                let lr = p["lr"]["_value"].as_f64().unwrap();
                let s = -(x - 7.3).powi(2) - (lr.log10() + 2.2).powi(2);
                best = best.max(s);
                tuner
                    .receive_trial_result(id, &p.to_string(), &s.to_string())
                    .unwrap();
                tuner.trial_end(id, true).unwrap();
            }
            *total += best / 10.0;
        }
    }
    assert!(l > r, "mean best: local {l:.3}, random {r:.3}");
}

#[test]
fn minimize_prefers_low_metrics() {
    let mut t = local(r#"{"seed": 2, "optimize_mode": "minimize"}"#);
    let late = late_mean_reward(&mut t, 10, 200, 50).unwrap();
    // Random search averages 10/6 ≈ 1.67.
    assert!(late < 1.0, "minimizing should avoid target ops, got {late}");
}

#[test]
fn bad_options_are_explained() {
    let e = TunerClient::in_process::<LocalSearchTuner>(r#"{"initial": 0}"#)
        .err()
        .unwrap();
    assert!(e.message().contains("\"initial\""), "{e}");
}
