//! Behaviour of the evolution tuner.

use crate::EvolutionTuner;
use archon_plugin_api::{
    conformance::{benchmark::late_mean_reward, check_tuner},
    TunerClient,
};

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<EvolutionTuner>(options));
    assert!(report.passed(), "{report}");
}

const SMALL_POPULATION: &str =
    r#""seed": 3, "population_size": 50, "sample_size": 10, "mutation_prob": 0.1"#;

#[test]
fn evolution_beats_random_where_structure_matters() {
    let mut evolution =
        TunerClient::in_process::<EvolutionTuner>(&format!("{{{SMALL_POPULATION}}}")).unwrap();
    let mut random =
        TunerClient::in_process::<archon_random::RandomTuner>(r#"{"seed": 3}"#).unwrap();
    let evolution = late_mean_reward(&mut evolution, 10, 400, 100).unwrap();
    let random = late_mean_reward(&mut random, 10, 400, 100).unwrap();
    // Random averages 10/6 ≈ 1.7 target positions.
    assert!(random < 2.5, "random {random}");
    assert!(
        evolution > random + 2.0,
        "evolution {evolution} vs random {random}"
    );
}

#[test]
fn minimize_prefers_low_metrics() {
    let options = format!(r#"{{{SMALL_POPULATION}, "optimize_mode": "minimize"}}"#);
    let mut tuner = TunerClient::in_process::<EvolutionTuner>(&options).unwrap();
    let late = late_mean_reward(&mut tuner, 10, 400, 100).unwrap();
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
