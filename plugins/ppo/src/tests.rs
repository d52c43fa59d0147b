//! Behaviour of the PPO tuner.

use crate::PpoTuner;
use archon_plugin_api::{conformance::check_tuner, TunerClient};
use serde_json::Value;

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<PpoTuner>(options));
    assert!(report.passed(), "{report}");
}

/// 10 positions × 6 ops and an input choice; the reward counts positions holding the
/// target op, plus one if the inputs are {a, c}.
fn structured_space() -> String {
    let ops = r#"["conv3", "conv5", "pool", "skip", "sep3", "sep5"]"#;
    let mut entries: Vec<String> = (0..10)
        .map(|i| format!(r#""layer{i}": {{"_type": "layer_choice", "_value": {ops}}}"#))
        .collect();
    entries.push(r#""inputs": {"_type": "input_choice", "_value": {"candidates": ["a", "b", "c", "d"], "n_chosen": 2}}"#.into());
    format!("{{{}}}", entries.join(","))
}

fn reward(params: &Value) -> f64 {
    let hits = (0..10)
        .filter(|i| params[format!("layer{i}")]["_value"] == ["sep3", "conv3"][i % 2])
        .count() as f64;
    hits + if params["inputs"]["_idx"] == serde_json::json!([0, 2]) {
        1.0
    } else {
        0.0
    }
}

/// Mean reward of trials 300..400.
fn late_mean(mut tuner: TunerClient) -> f64 {
    tuner.update_search_space(&structured_space()).unwrap();
    let mut rewards = Vec::new();
    for id in 0..400 {
        let params = tuner.generate_parameters(id).unwrap().unwrap();
        let r = reward(&params);
        tuner
            .receive_trial_result(id, &params.to_string(), &r.to_string())
            .unwrap();
        tuner.trial_end(id, true).unwrap();
        rewards.push(r);
    }
    rewards[300..].iter().sum::<f64>() / 100.0
}

#[test]
fn ppo_learns_where_random_does_not() {
    let ppo = late_mean(TunerClient::in_process::<PpoTuner>(r#"{"seed": 1, "lr": 0.01}"#).unwrap());
    let random =
        late_mean(TunerClient::in_process::<archon_random::RandomTuner>(r#"{"seed": 1}"#).unwrap());
    // Random averages 10/6 + 1/6 ≈ 1.8.
    assert!(random < 2.6, "random {random}");
    assert!(ppo > random + 1.5, "ppo {ppo} vs random {random}");
}

#[test]
fn bad_options_are_explained() {
    let e = TunerClient::in_process::<PpoTuner>(r#"{"lr": -1}"#)
        .err()
        .unwrap();
    assert!(e.message().contains("\"lr\" must not be negative"), "{e}");
    let e = TunerClient::in_process::<PpoTuner>(r#"{"learning_rate": 0.1}"#)
        .err()
        .unwrap();
    assert!(
        e.message().contains("ppo has no option \"learning_rate\""),
        "{e}"
    );
}
