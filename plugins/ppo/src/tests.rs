//! Behaviour of the PPO tuner.

use crate::PpoTuner;
use archon_plugin_api::{
    conformance::{benchmark::late_mean_reward, check_tuner},
    TunerClient,
};

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<PpoTuner>(options));
    assert!(report.passed(), "{report}");
}

#[test]
fn ppo_learns_where_random_does_not() {
    let mut ppo = TunerClient::in_process::<PpoTuner>(r#"{"seed": 1, "lr": 0.01}"#).unwrap();
    let mut random =
        TunerClient::in_process::<archon_random::RandomTuner>(r#"{"seed": 1}"#).unwrap();
    let ppo = late_mean_reward(&mut ppo, 10, 400, 100).unwrap();
    let random = late_mean_reward(&mut random, 10, 400, 100).unwrap();
    // Random averages 10/6 ≈ 1.7.
    assert!(random < 2.5, "random {random}");
    assert!(ppo > random + 1.5, "ppo {ppo} vs random {random}");
}

#[test]
fn input_choices_are_sampled_without_repeats() {
    let mut t = TunerClient::in_process::<PpoTuner>(r#"{"seed": 2}"#).unwrap();
    t.update_search_space(r#"{"in": {"_type": "input_choice", "_value": {"candidates": ["a", "b", "c", "d"], "n_chosen": 3}}, "any": {"_type": "input_choice", "_value": {"candidates": ["x", "y"], "n_chosen": null}}}"#).unwrap();
    for id in 0..16 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        let idx = p["in"]["_idx"].as_array().unwrap();
        assert_eq!(idx.len(), 3);
        assert!(idx.windows(2).all(|w| w[0].as_u64() < w[1].as_u64()), "{p}");
    }
    assert!(
        t.generate_parameters(16).unwrap().is_none(),
        "4 × 4 architectures, all proposed"
    );
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
