//! Behaviour of the GP tuner, driven through the same adapter a loaded plugin uses.
//! Candidate counts are kept small: these run unoptimised.

use crate::GpTuner;
use archon_plugin_api::{
    conformance::{benchmark::late_mean_reward, check_tuner},
    TunerClient,
};
use serde_json::Value;

/// Branin on [-5, 10] × [0, 15], negated (maximum −0.397887 at three points).
fn branin(p: &Value) -> f64 {
    let x = p["x"]["_value"].as_f64().unwrap();
    let y = p["y"]["_value"].as_f64().unwrap();
    let pi = std::f64::consts::PI;
    let b = 5.1 / (4.0 * pi * pi);
    let c = 5.0 / pi;
    let t = 1.0 / (8.0 * pi);
    -((y - b * x * x + c * x - 6.0).powi(2) + 10.0 * (1.0 - t) * x.cos() + 10.0)
}

const BRANIN: &str = r#"{"x": {"_type": "uniform", "_value": [-5, 10]},
                         "y": {"_type": "uniform", "_value": [0, 15]}}"#;

/// The best of `trials` sequential trials of `f` on `space`.
fn best_of(mut t: TunerClient, space: &str, f: fn(&Value) -> f64, trials: u64) -> f64 {
    t.update_search_space(space).unwrap();
    let mut best = f64::NEG_INFINITY;
    for id in 0..trials {
        let p = t.generate_parameters(id).unwrap().unwrap();
        let s = f(&p);
        best = best.max(s);
        t.receive_trial_result(id, &p.to_string(), &s.to_string())
            .unwrap();
        t.trial_end(id, true).unwrap();
    }
    best
}

fn gp(options: &str) -> TunerClient {
    TunerClient::in_process::<GpTuner>(options).unwrap()
}

fn random(seed: u64) -> TunerClient {
    TunerClient::in_process::<archon_random::RandomTuner>(&format!(r#"{{"seed": {seed}}}"#))
        .unwrap()
}

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<GpTuner>(options));
    assert!(report.passed(), "{report}");
}

#[test]
fn finds_branins_optimum_far_better_than_random_search() {
    // Deterministic: fixed seeds. 30 trials: GP's regret is a few hundredths, random
    // search's several tenths.
    let (mut g, mut r) = (0.0, 0.0);
    for seed in 0..4 {
        let options = format!(r#"{{"seed": {seed}, "selection_num_warm_up": 200}}"#);
        g += best_of(gp(&options), BRANIN, branin, 30) / 4.0;
        r += best_of(random(seed), BRANIN, branin, 30) / 4.0;
    }
    let optimum = -0.397887;
    assert!(optimum - g < 0.1, "GP's mean regret {}", optimum - g);
    assert!(
        optimum - r > 2.0 * (optimum - g),
        "GP {g:.3}, random {r:.3}"
    );
}

#[test]
fn learns_which_operations_pay_in_a_categorical_space() {
    let options =
        r#"{"seed": 3, "selection_num_warm_up": 200, "selection_num_starting_points": 3}"#;
    let late = late_mean_reward(&mut gp(options), 6, 60, 20).unwrap();
    let random = late_mean_reward(&mut random(3), 6, 60, 20).unwrap();
    // Random search averages 1 of 6 positions right.
    assert!(late > random + 2.0, "GP {late} vs random {random}");
}

#[test]
fn minimize_prefers_low_metrics() {
    let options = r#"{"seed": 2, "optimize_mode": "minimize", "selection_num_warm_up": 200, "selection_num_starting_points": 3}"#;
    let late = late_mean_reward(&mut gp(options), 6, 50, 20).unwrap();
    assert!(late < 0.5, "minimizing should avoid target ops, got {late}");
}

#[test]
fn every_utility_runs_and_running_trials_are_not_proposed_again() {
    for utility in ["ei", "ucb", "poi"] {
        let mut t = gp(&format!(
            r#"{{"seed": 1, "utility": "{utility}", "cold_start_num": 3, "selection_num_warm_up": 100}}"#
        ));
        t.update_search_space(BRANIN).unwrap();
        for id in 0..3 {
            let p = t.generate_parameters(id).unwrap().unwrap();
            t.receive_trial_result(id, &p.to_string(), &branin(&p).to_string())
                .unwrap();
            t.trial_end(id, true).unwrap();
        }
        // Three proposals in flight at once: the constant liar keeps them apart.
        let a = t.generate_parameters(10).unwrap().unwrap();
        let b = t.generate_parameters(11).unwrap().unwrap();
        let c = t.generate_parameters(12).unwrap().unwrap();
        assert!(a != b && b != c && a != c, "{utility}: {a} {b} {c}");
    }
}

#[test]
fn bad_options_are_explained() {
    for (options, words) in [
        (r#"{"nu": 2.0}"#, "\"nu\" must be 0.5, 1.5, 2.5 or infinite"),
        (r#"{"cold_start_num": 1}"#, "\"cold_start_num\""),
        (r#"{"utility": "pi"}"#, "utility"),
        (r#"{"alpha": 0}"#, "\"alpha\" must be above 0"),
        (r#"{"kappa": -1}"#, "\"kappa\" must be 0 or more"),
        (
            r#"{"selection_num_warm_up": 0}"#,
            "\"selection_num_warm_up\"",
        ),
    ] {
        let e = TunerClient::in_process::<GpTuner>(options).err().unwrap();
        assert!(e.message().contains(words), "{options}: {e}");
    }
}
