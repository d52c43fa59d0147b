//! Behaviour of the TPE tuner, driven through the same adapter a loaded plugin uses.

use crate::TpeTuner;
use archon_plugin_api::{conformance::check_tuner, SearchSpace, TunerClient};
use serde_json::Value;
use std::collections::HashSet;

fn tuner(options: &str, space: &str) -> TunerClient {
    let mut t = TunerClient::in_process::<TpeTuner>(options).unwrap();
    t.update_search_space(space).unwrap();
    t
}

/// Six 4-way choices and a log-uniform learning rate; the score is additive over the
/// choices (candidate 3 best everywhere) plus a bump at lr = 1e-2.
const MIXED: &str = r#"{
    "a": {"_type": "layer_choice", "_value": ["w", "x", "y", "z"]},
    "b": {"_type": "layer_choice", "_value": ["w", "x", "y", "z"]},
    "c": {"_type": "choice", "_value": [1, 2, 3, 4]},
    "d": {"_type": "randint", "_value": [0, 4]},
    "e": {"_type": "input_choice", "_value": {"candidates": ["p", "q", "r", "s"], "n_chosen": 1}},
    "f": {"_type": "layer_choice", "_value": ["w", "x", "y", "z"]},
    "lr": {"_type": "loguniform", "_value": [0.0001, 1.0]}
}"#;

fn score(p: &Value) -> f64 {
    let mut s = 0.0;
    for k in ["a", "b", "c", "d", "f"] {
        s += p[k]["_idx"].as_f64().unwrap();
    }
    s += p["e"]["_idx"][0].as_f64().unwrap();
    let lr = p["lr"]["_value"].as_f64().unwrap();
    s + 3.0 * (-(lr.log10() + 2.0).powi(2)).exp()
}

/// The best score of `trials` sequential trials of `make`'s tuner.
fn best_of(mut t: TunerClient, trials: u64) -> f64 {
    let mut best = f64::NEG_INFINITY;
    for id in 0..trials {
        let p = t.generate_parameters(id).unwrap().unwrap();
        let s = score(&p);
        best = best.max(s);
        t.receive_trial_result(id, &p.to_string(), &s.to_string())
            .unwrap();
        t.trial_end(id, true).unwrap();
    }
    best
}

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<TpeTuner>(options));
    assert!(report.passed(), "{report}");
}

#[test]
fn beats_random_search_on_a_mixed_space() {
    // Deterministic: 20 fixed seeds each. Optimum 21.
    let (mut tpe, mut random) = (0.0, 0.0);
    for seed in 0..20 {
        tpe += best_of(tuner(&format!(r#"{{"seed": {seed}}}"#), MIXED), 60);
        let mut r = TunerClient::in_process::<archon_random::RandomTuner>(&format!(
            r#"{{"seed": {seed}}}"#
        ))
        .unwrap();
        r.update_search_space(MIXED).unwrap();
        random += best_of(r, 60);
    }
    let (tpe, random) = (tpe / 20.0, random / 20.0);
    assert!(
        tpe > random + 1.0,
        "mean best of 60 trials: tpe {tpe:.2}, random {random:.2}"
    );
}

#[test]
fn the_optimize_mode_sets_the_direction() {
    // f(x) = x on [0, 10]: after the random start-up, proposals sit low when minimizing
    // and high when maximizing.
    let space = r#"{"x": {"_type": "uniform", "_value": [0, 10]}}"#;
    let model_mean = |mode: &str| {
        let mut sum = 0.0;
        for seed in 0..5 {
            let mut t = tuner(
                &format!(r#"{{"seed": {seed}, "optimize_mode": "{mode}"}}"#),
                space,
            );
            for id in 0..50 {
                let p = t.generate_parameters(id).unwrap().unwrap();
                let x = p["x"]["_value"].as_f64().unwrap();
                assert!((0.0..=10.0).contains(&x));
                if id >= 20 {
                    sum += x;
                }
                t.receive_trial_result(id, &p.to_string(), &x.to_string())
                    .unwrap();
            }
        }
        sum / (5.0 * 30.0)
    };
    let (low, high) = (model_mean("minimize"), model_mean("maximize"));
    assert!(
        low < 3.5 && high > 6.5,
        "minimize {low:.2}, maximize {high:.2}"
    );
}

#[test]
fn quantized_and_log_values_keep_their_type() {
    let space = r#"{"n": {"_type": "qloguniform", "_value": [1, 1000, 1]},
                    "m": {"_type": "qnormal", "_value": [0, 5, 0.5]}}"#;
    let mut t = tuner(r#"{"seed": 1, "n_startup_jobs": 5}"#, space);
    for id in 0..30 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        let n = p["n"]["_value"].as_f64().unwrap();
        let m = p["m"]["_value"].as_f64().unwrap();
        assert!((1.0..=1000.0).contains(&n) && n.fract() == 0.0, "{n}");
        assert_eq!((m * 2.0).fract(), 0.0, "{m}");
        t.receive_trial_result(id, &p.to_string(), &(n / 1000.0).to_string())
            .unwrap();
    }
}

#[test]
fn resumes_exactly_and_never_repeats_in_a_finite_space() {
    let space = r#"{"a": {"_type": "layer_choice", "_value": ["x", "y", "z"]},
                    "b": {"_type": "randint", "_value": [0, 4]}}"#;
    let run = |t: &mut TunerClient, from: u64, to: u64| -> Vec<String> {
        (from..to)
            .map(|id| {
                let p = t.generate_parameters(id).unwrap().unwrap();
                let s = p["a"]["_idx"].as_f64().unwrap() + p["b"]["_value"].as_f64().unwrap();
                t.receive_trial_result(id, &p.to_string(), &s.to_string())
                    .unwrap();
                p.to_string()
            })
            .collect()
    };
    let options = r#"{"seed": 9, "n_startup_jobs": 4}"#;
    let mut a = tuner(options, space);
    let first = run(&mut a, 0, 6);
    let saved = a.save_state().unwrap();
    let rest = run(&mut a, 6, 12);
    let mut b = tuner(options, space);
    b.load_state(&saved).unwrap();
    assert_eq!(
        run(&mut b, 6, 12),
        rest,
        "a restored tuner proposes the same"
    );
    let all: HashSet<String> = first.into_iter().chain(rest).collect();
    assert_eq!(all.len(), 12, "no architecture twice");
    assert!(a.generate_parameters(12).is_ok());
    // 12 architectures in all: the 13th proposal is "no more trials".
    assert_eq!(a.generate_parameters(13).unwrap(), None);
}

#[test]
fn concurrent_proposals_differ_under_the_constant_liar() {
    let mut t = tuner(r#"{"seed": 4, "n_startup_jobs": 2}"#, MIXED);
    for id in 0..4 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        t.receive_trial_result(id, &p.to_string(), &score(&p).to_string())
            .unwrap();
    }
    let running: HashSet<String> = (4..12)
        .map(|id| t.generate_parameters(id).unwrap().unwrap().to_string())
        .collect();
    assert_eq!(running.len(), 8);
}

#[test]
fn bad_options_and_foreign_states_are_refused_by_name() {
    let e = TunerClient::in_process::<TpeTuner>(r#"{"gamma": 2}"#)
        .err()
        .unwrap();
    assert!(e.message().contains("gamma must be in (0, 1]"), "{e}");
    let e = TunerClient::in_process::<TpeTuner>(r#"{"liar": "best"}"#)
        .err()
        .unwrap();
    assert!(e.message().contains("no option \"liar\""), "{e}");
    let mut t = tuner("{}", MIXED);
    let p = t.generate_parameters(0).unwrap().unwrap();
    t.receive_trial_result(0, &p.to_string(), "1.0").unwrap();
    let state = t.save_state().unwrap();
    let mut other = tuner("{}", r#"{"z": {"_type": "layer_choice", "_value": ["a"]}}"#);
    let e = other.load_state(&state).unwrap_err();
    assert!(
        e.message()
            .contains("does not fit the current search space"),
        "{e}"
    );
    SearchSpace::from_json_str(MIXED).unwrap();
}
