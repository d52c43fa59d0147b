//! Behaviour of the random tuner, driven through the same adapter a loaded plugin uses.

use crate::RandomTuner;
use archon_plugin_api::{conformance::check_tuner, Architecture, SearchSpace, TunerClient};
use std::collections::{HashMap, HashSet};

const SMALL: &str = r#"{
    "op": {"_type": "layer_choice", "_value": ["conv", "pool", "skip"]},
    "in": {"_type": "input_choice", "_value": {"candidates": ["x0", "x1"], "n_chosen": 1}}
}"#;

fn tuner(seed: u64, space: &str) -> TunerClient {
    let mut t = TunerClient::in_process::<RandomTuner>(&format!(r#"{{"seed": {seed}}}"#)).unwrap();
    t.update_search_space(space).unwrap();
    t
}

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<RandomTuner>(options));
    assert!(report.passed(), "{report}");
}

#[test]
fn first_draws_are_uniform_over_the_space() {
    // 6 architectures, 6000 seeds: each should come first about 1000 times.
    let mut counts: HashMap<String, u32> = HashMap::new();
    for seed in 0..6000 {
        let p = tuner(seed, SMALL).generate_parameters(0).unwrap().unwrap();
        *counts.entry(p.to_string()).or_default() += 1;
    }
    assert_eq!(counts.len(), 6, "{counts:?}");
    for (arch, n) in &counts {
        assert!(
            (850..1150).contains(n),
            "{arch} drawn first {n} times of 6000"
        );
    }
}

#[test]
fn input_choice_subsets_are_uniform_and_respect_n_chosen() {
    let space = r#"{"in": {"_type": "input_choice", "_value": {"candidates": ["a", "b", "c", "d"], "n_chosen": 2}}}"#;
    let parsed = SearchSpace::from_json_str(space).unwrap();
    let mut counts: HashMap<Vec<u64>, u32> = HashMap::new();
    for seed in 0..3000 {
        let p = tuner(seed, space).generate_parameters(0).unwrap().unwrap();
        Architecture::from_json(&parsed, &p).unwrap();
        let idx: Vec<u64> = p["in"]["_idx"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(idx.len(), 2);
        *counts.entry(idx).or_default() += 1;
    }
    assert_eq!(counts.len(), 6);
    for (subset, n) in &counts {
        assert!((400..600).contains(n), "{subset:?} drawn {n} times of 3000");
    }
}

#[test]
fn never_repeats_and_stops_exactly_when_exhausted() {
    let choices: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| format!(r#""{n}": {{"_type": "choice", "_value": [1, 2, 3]}}"#))
        .collect();
    let space = format!("{{{}}}", choices.join(","));
    let mut t = tuner(5, &space);
    let mut seen = HashSet::new();
    for id in 0..81 {
        let p = t
            .generate_parameters(id)
            .unwrap()
            .expect("81 architectures");
        assert!(seen.insert(p.to_string()), "repeat at trial {id}");
    }
    assert!(t.generate_parameters(81).unwrap().is_none());
}

#[test]
fn huge_spaces_do_not_repeat_either() {
    let space = archon_plugin_api::conformance::fixtures::large_space();
    let mut t = tuner(8, &space);
    let mut seen = HashSet::new();
    for id in 0..2000 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        assert!(seen.insert(p.to_string()));
    }
}

#[test]
fn a_restored_tuner_never_proposes_what_the_original_did() {
    let mut a = tuner(21, SMALL);
    let first: Vec<String> = (0..3)
        .map(|i| a.generate_parameters(i).unwrap().unwrap().to_string())
        .collect();
    let state = a.save_state().unwrap();
    let mut b = tuner(0, SMALL);
    b.load_state(&state).unwrap();
    let rest: Vec<String> = (3..6)
        .map(|i| b.generate_parameters(i).unwrap().unwrap().to_string())
        .collect();
    assert!(b.generate_parameters(6).unwrap().is_none());
    let all: HashSet<&String> = first.iter().chain(&rest).collect();
    assert_eq!(all.len(), 6);
}

#[test]
fn a_state_for_another_space_is_refused() {
    let a = tuner(1, SMALL);
    let state = a.save_state().unwrap();
    let mut b = tuner(
        1,
        archon_plugin_api::conformance::fixtures::large_space().as_str(),
    );
    let e = b.load_state(&state).unwrap_err();
    assert!(
        e.message()
            .contains("does not fit the current search space"),
        "{e}"
    );
}

#[test]
fn bad_options_name_the_option() {
    let e = TunerClient::in_process::<RandomTuner>(r#"{"sead": 1}"#)
        .err()
        .unwrap();
    assert!(
        e.message()
            .contains("random has no option \"sead\" (known: seed, optimize_mode)"),
        "{e}"
    );
    let e = TunerClient::in_process::<RandomTuner>(r#"{"seed": -4}"#)
        .err()
        .unwrap();
    assert!(
        e.message().contains("\"seed\" must be a whole number"),
        "{e}"
    );
    let e = TunerClient::in_process::<RandomTuner>(r#"{"optimize_mode": "max"}"#)
        .err()
        .unwrap();
    assert!(
        e.message()
            .contains("\"optimize_mode\" must be one of \"maximize\", \"minimize\""),
        "{e}"
    );
}
