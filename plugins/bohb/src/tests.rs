//! Behaviour of BOHB, driven through the same adapter a loaded plugin uses.

use crate::BohbTuner;
use archon_plugin_api::{conformance::check_tuner, TunerClient};
use serde_json::Value;

const SPACE: &str = r#"{
    "a": {"_type": "layer_choice", "_value": ["p", "q", "r", "s", "t", "u"]},
    "b": {"_type": "randint", "_value": [0, 8]},
    "c": {"_type": "choice", "_value": [1, 2, 3, 4]},
    "lr": {"_type": "loguniform", "_value": [0.001, 0.1]}
}"#;

/// Quality in [0, 1]: best at a = u, b = 7, c = 4, lr = 0.01.
fn quality(p: &Value) -> f64 {
    let a = p["a"]["_idx"].as_f64().unwrap() / 5.0;
    let b = p["b"]["_value"].as_f64().unwrap() / 7.0;
    let c = p["c"]["_idx"].as_f64().unwrap() / 3.0;
    let lr = (-(p["lr"]["_value"].as_f64().unwrap().log10() + 2.0).powi(2)).exp();
    (a + b + c + lr) / 4.0
}

/// The mean quality of the architectures that start brackets in trials 80..200.
fn late_fresh_quality(mut t: TunerClient) -> f64 {
    let (mut sum, mut n) = (0.0, 0);
    for id in 0..200 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        let info = t.trial_info(id).unwrap().unwrap();
        let budget = info["budget"].as_f64().unwrap();
        if id >= 80 && info.get("promoted_from").is_none() {
            sum += quality(&p);
            n += 1;
        }
        let score = quality(&p) * (1.0 - (-budget / 3.0).exp());
        t.receive_trial_result(id, &p.to_string(), &score.to_string())
            .unwrap();
        t.trial_end(id, true).unwrap();
    }
    sum / n as f64
}

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<BohbTuner>(options));
    assert!(report.passed(), "{report}");
}

#[test]
fn the_model_starts_brackets_from_better_architectures_than_hyperband() {
    let (mut bohb, mut hyperband) = (0.0, 0.0);
    for seed in 0..3 {
        let options = format!(r#"{{"seed": {seed}, "max_budget": 9}}"#);
        let mut t = TunerClient::in_process::<BohbTuner>(&options).unwrap();
        t.update_search_space(SPACE).unwrap();
        bohb += late_fresh_quality(t) / 3.0;
        // random_fraction 1: Hyperband's own random brackets on the same schedule.
        let random = format!(r#"{{"seed": {seed}, "max_budget": 9, "random_fraction": 1}}"#);
        let mut t = TunerClient::in_process::<BohbTuner>(&random).unwrap();
        t.update_search_space(SPACE).unwrap();
        hyperband += late_fresh_quality(t) / 3.0;
    }
    assert!(
        bohb > hyperband + 0.08,
        "mean quality of new architectures after 80 trials: bohb {bohb:.3}, hyperband {hyperband:.3}"
    );
}

#[test]
fn bad_options_are_refused_by_name() {
    let e = TunerClient::in_process::<BohbTuner>(r#"{"top_n_percent": 150}"#)
        .err()
        .unwrap();
    assert!(
        e.message()
            .contains("bohb: top_n_percent must be between 0 and 100"),
        "{e}"
    );
    let e = TunerClient::in_process::<BohbTuner>(r#"{"max_budget": 0.5}"#)
        .err()
        .unwrap();
    assert!(
        e.message()
            .contains("bohb: budgets: need 0 < min_budget ≤ max_budget"),
        "{e}"
    );
}
