//! Behaviour of the anneal tuner, driven through the same adapter a loaded plugin uses.

use crate::AnnealTuner;
use archon_plugin_api::{
    conformance::{benchmark::late_mean_reward, check_tuner},
    TunerClient,
};
use serde_json::Value;

/// Two uniform numbers, a log-uniform one, a normal one and a 5-way choice.
const SPACE: &str = r#"{
    "x": {"_type": "uniform", "_value": [0, 10]},
    "y": {"_type": "quniform", "_value": [-5, 5, 0.5]},
    "lr": {"_type": "loguniform", "_value": [0.0001, 1.0]},
    "z": {"_type": "normal", "_value": [0, 2]},
    "op": {"_type": "choice", "_value": ["a", "b", "c", "d", "e"]}
}"#;

/// A smooth bowl with its top at x = 7, y = -1.5, lr = 1e-2, z = 1, op = "d" (score 5).
fn score(p: &Value) -> f64 {
    let v = |k: &str| p[k]["_value"].as_f64().unwrap();
    let op = p["op"]["_idx"].as_f64().unwrap();
    5.0 - 0.1 * (v("x") - 7.0).powi(2)
        - 0.1 * (v("y") + 1.5).powi(2)
        - 0.5 * (v("lr").log10() + 2.0).powi(2)
        - 0.2 * (v("z") - 1.0).powi(2)
        - if op == 3.0 { 0.0 } else { 1.0 }
}

/// The best score of `trials` sequential trials, and the last proposals' mean score.
fn run(mut t: TunerClient, trials: u64) -> (f64, f64) {
    t.update_search_space(SPACE).unwrap();
    let (mut best, mut late) = (f64::NEG_INFINITY, 0.0);
    for id in 0..trials {
        let p = t.generate_parameters(id).unwrap().unwrap();
        let s = score(&p);
        best = best.max(s);
        if id >= trials - 20 {
            late += s / 20.0;
        }
        t.receive_trial_result(id, &p.to_string(), &s.to_string())
            .unwrap();
        t.trial_end(id, true).unwrap();
    }
    (best, late)
}

fn anneal(options: &str) -> TunerClient {
    TunerClient::in_process::<AnnealTuner>(options).unwrap()
}

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<AnnealTuner>(options));
    assert!(report.passed(), "{report}");
}

#[test]
fn anneals_toward_the_optimum_and_beats_random_search() {
    // Deterministic: 20 fixed seeds each, 80 trials.
    let (mut a_best, mut a_late, mut r_best, mut r_late) = (0.0, 0.0, 0.0, 0.0);
    for seed in 0..20 {
        let (best, late) = run(anneal(&format!(r#"{{"seed": {seed}}}"#)), 80);
        a_best += best / 20.0;
        a_late += late / 20.0;
        let random = TunerClient::in_process::<archon_random::RandomTuner>(&format!(
            r#"{{"seed": {seed}}}"#
        ))
        .unwrap();
        let (best, late) = run(random, 80);
        r_best += best / 20.0;
        r_late += late / 20.0;
    }
    assert!(
        a_best > r_best + 0.5,
        "mean best: anneal {a_best:.2}, random {r_best:.2}"
    );
    // Proposals narrow around good trials: the last 20 score far above random's.
    assert!(
        a_late > r_late + 2.0,
        "late mean: anneal {a_late:.2}, random {r_late:.2}"
    );
}

#[test]
fn finds_structure_in_categorical_spaces_too() {
    let mut tuner = anneal(r#"{"seed": 5}"#);
    let mut random =
        TunerClient::in_process::<archon_random::RandomTuner>(r#"{"seed": 5}"#).unwrap();
    let anneal = late_mean_reward(&mut tuner, 10, 400, 100).unwrap();
    let random = late_mean_reward(&mut random, 10, 400, 100).unwrap();
    assert!(anneal > random + 2.0, "anneal {anneal} vs random {random}");
}

#[test]
fn minimize_prefers_low_metrics() {
    let mut tuner = anneal(r#"{"seed": 2, "optimize_mode": "minimize"}"#);
    let late = late_mean_reward(&mut tuner, 10, 400, 100).unwrap();
    assert!(late < 1.0, "minimizing should avoid target ops, got {late}");
}

#[test]
fn bad_options_are_explained() {
    let e = TunerClient::in_process::<AnnealTuner>(r#"{"avg_best_idx": 0.5}"#)
        .err()
        .unwrap();
    assert!(e.message().contains("\"avg_best_idx\""), "{e}");
    let e = TunerClient::in_process::<AnnealTuner>(r#"{"shrink_coef": -1}"#)
        .err()
        .unwrap();
    assert!(
        e.message().contains("\"shrink_coef\" must be 0 or more"),
        "{e}"
    );
}
