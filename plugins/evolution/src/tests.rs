//! Behaviour of the evolution tuner.

use crate::EvolutionTuner;
use archon_plugin_api::{conformance::check_tuner, TunerClient};
use serde_json::Value;

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<EvolutionTuner>(options));
    assert!(report.passed(), "{report}");
}

/// 10 positions × 6 ops; the reward counts positions holding the target op.
fn structured_space() -> String {
    let ops = r#"["conv3", "conv5", "pool", "skip", "sep3", "sep5"]"#;
    let entries: Vec<String> = (0..10)
        .map(|i| format!(r#""layer{i}": {{"_type": "layer_choice", "_value": {ops}}}"#))
        .collect();
    format!("{{{}}}", entries.join(","))
}

fn reward(params: &Value) -> f64 {
    (0..10)
        .filter(|i| params[format!("layer{i}")]["_value"] == ["sep3", "conv3"][i % 2])
        .count() as f64
}

/// Mean reward of the last 100 of 400 trials.
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
fn evolution_beats_random_where_structure_matters() {
    let options = r#"{"seed": 3, "population_size": 50, "sample_size": 10, "mutation_prob": 0.1}"#;
    let evolution = late_mean(TunerClient::in_process::<EvolutionTuner>(options).unwrap());
    let random =
        late_mean(TunerClient::in_process::<archon_random::RandomTuner>(r#"{"seed": 3}"#).unwrap());
    // Random averages 10/6 ≈ 1.7 target positions.
    assert!(random < 2.5, "random {random}");
    assert!(
        evolution > random + 2.0,
        "evolution {evolution} vs random {random}"
    );
}

#[test]
fn minimize_prefers_low_metrics() {
    let options = r#"{"seed": 3, "population_size": 50, "sample_size": 10, "mutation_prob": 0.1, "optimize_mode": "minimize"}"#;
    let mut tuner = TunerClient::in_process::<EvolutionTuner>(options).unwrap();
    tuner.update_search_space(&structured_space()).unwrap();
    let mut rewards = Vec::new();
    for id in 0..400 {
        let params = tuner.generate_parameters(id).unwrap().unwrap();
        let r = reward(&params);
        tuner
            .receive_trial_result(id, &params.to_string(), &r.to_string())
            .unwrap();
        rewards.push(r);
    }
    let late = rewards[300..].iter().sum::<f64>() / 100.0;
    assert!(late < 1.0, "minimizing should avoid target ops, got {late}");
}

#[test]
fn bad_options_are_explained() {
    let e = TunerClient::in_process::<EvolutionTuner>(r#"{"sample_size": 200}"#)
        .err()
        .unwrap();
    assert!(
        e.message().contains("1 ≤ sample_size ≤ population_size"),
        "{e}"
    );
    let e = TunerClient::in_process::<EvolutionTuner>(r#"{"mutation_prob": 2}"#)
        .err()
        .unwrap();
    assert!(
        e.message()
            .contains("\"mutation_prob\" must be between 0 and 1"),
        "{e}"
    );
}
