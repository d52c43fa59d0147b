//! Behaviour of the PBT tuner, driven through the same adapter a loaded plugin uses.

use crate::PbtTuner;
use archon_plugin_api::TunerClient;
use serde_json::{json, Value};

const SPACE: &str = r#"{
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [0.0001, 1.0]},
    "width": {"_type": "choice", "_value": [8, 16, 32, 64]}
}"#;

fn pbt(options: Value) -> TunerClient {
    let mut t = TunerClient::in_process::<PbtTuner>(&options.to_string()).unwrap();
    t.update_search_space(SPACE).unwrap();
    t
}

fn info(t: &mut TunerClient, id: u64) -> Value {
    t.trial_info(id).unwrap().unwrap()
}

fn x(p: &Value) -> f64 {
    p["x"]["_value"].as_f64().unwrap()
}

#[test]
fn generations_continue_from_checkpoints_and_the_bottom_takes_the_tops() {
    let mut t = pbt(json!({"population_size": 4, "fraction": 0.25, "seed": 3,
                           "checkpoint_dir": "/ck"}));
    // Generation 0: four members, each starting from its own empty folder; then
    // nothing until their results are in.
    let gen0: Vec<Value> = (0..4)
        .map(|id| t.generate_parameters(id).unwrap().unwrap())
        .collect();
    assert!(t.generate_parameters(4).unwrap().is_none());
    for id in 0..4 {
        let i = info(&mut t, id);
        assert_eq!(i["checkpoint"]["load"], format!("/ck/{id}/0"));
        assert_eq!(i["checkpoint"]["save"], format!("/ck/{id}/0"));
        assert_eq!(i["pbt"], json!({"member": id, "generation": 0}));
    }
    // Member 2 is best, member 0 fails (ranks last).
    t.trial_end(0, false).unwrap();
    for (id, score) in [(1, 0.5), (2, 0.9), (3, 0.7)] {
        t.receive_trial_result(id, &gen0[id as usize].to_string(), &score.to_string())
            .unwrap();
        assert_eq!(t.generate_parameters(10 + id).unwrap().is_some(), id == 3);
        t.trial_end(id, true).unwrap();
    }
    // Generation 1: 13 was handed out when the last result came in.
    let mut gen1 = vec![(13, info(&mut t, 13))];
    for id in 20..23 {
        t.generate_parameters(id).unwrap().unwrap();
        gen1.push((id, info(&mut t, id)));
    }
    for (_, i) in &gen1 {
        let member = i["pbt"]["member"].as_u64().unwrap();
        assert_eq!(i["pbt"]["generation"], 1);
        assert_eq!(i["checkpoint"]["save"], format!("/ck/{member}/1"));
        // The failed member 0 continues from the best one's checkpoint; the rest
        // from their own.
        let from = if member == 0 { 2 } else { member };
        assert_eq!(i["checkpoint"]["load"], format!("/ck/{from}/0"), "{i}");
    }
}

#[test]
fn explored_parameters_stay_near_the_exploited_ones() {
    // Every member is bottom-ranked and copies the single top (fraction 1, population
    // 1): with no resampling each number moves by exactly factor × its range (clipped).
    let mut t = pbt(json!({"population_size": 1, "fraction": 1.0, "factor": 0.1,
                           "resample_probability": 0.0, "seed": 1}));
    let mut previous = t.generate_parameters(0).unwrap().unwrap();
    for id in 1..30 {
        t.receive_trial_result(id - 1, &previous.to_string(), "1")
            .unwrap();
        let p = t.generate_parameters(id).unwrap().unwrap();
        let step = (x(&p) - x(&previous)).abs();
        assert!(
            (step - 0.1).abs() < 1e-9 || x(&p) == 0.0 || x(&p) == 1.0,
            "{previous} -> {p}"
        );
        let w = |p: &Value| p["width"]["_idx"].as_i64().unwrap();
        assert!((w(&p) - w(&previous)).abs() <= 1, "{previous} -> {p}");
        let lr = |p: &Value| p["lr"]["_value"].as_f64().unwrap().ln();
        let log_step = (lr(&p) - lr(&previous)).abs();
        let range = 1.0f64.ln() - 0.0001f64.ln();
        assert!(log_step <= 0.1 * range + 1e-9, "{previous} -> {p}");
        previous = p;
    }
}

#[test]
fn the_population_moves_toward_the_best_region() {
    // Score: closeness of x to 0.8. Over 10 seeds, the last generation's members sit
    // nearer 0.8 than the first generation's random ones.
    let (mut first, mut last) = (0.0, 0.0);
    for seed in 0..10 {
        let mut t = pbt(json!({"population_size": 8, "factor": 0.05, "seed": seed}));
        let mut id = 0;
        for generation in 0..12 {
            let mut members = Vec::new();
            while let Some(p) = t.generate_parameters(id).unwrap() {
                members.push((id, p));
                id += 1;
            }
            assert_eq!(members.len(), 8);
            let distance: f64 = members.iter().map(|(_, p)| (x(p) - 0.8).abs()).sum::<f64>() / 8.0;
            if generation == 0 {
                first += distance / 10.0;
            }
            if generation == 11 {
                last += distance / 10.0;
            }
            for (id, p) in members {
                let score = -(x(&p) - 0.8).abs();
                t.receive_trial_result(id, &p.to_string(), &score.to_string())
                    .unwrap();
            }
        }
    }
    assert!(last < 0.5 * first, "first {first}, last {last}");
}

#[test]
fn the_state_survives_a_restore_mid_generation() {
    let mut a = pbt(json!({"population_size": 3, "seed": 5, "checkpoint_dir": "/ck"}));
    let p0 = a.generate_parameters(0).unwrap().unwrap();
    a.generate_parameters(1).unwrap().unwrap();
    a.receive_trial_result(0, &p0.to_string(), "0.3").unwrap();
    let saved = a.save_state().unwrap();
    let mut b = pbt(json!({"population_size": 3, "seed": 5, "checkpoint_dir": "/ck"}));
    b.load_state(&saved).unwrap();
    for t in [&mut a, &mut b] {
        let p2 = t.generate_parameters(2).unwrap().unwrap();
        assert!(t.generate_parameters(3).unwrap().is_none());
        t.receive_trial_result(1, &p0.to_string(), "0.1").unwrap();
        t.receive_trial_result(2, &p2.to_string(), "0.2").unwrap();
    }
    assert_eq!(
        a.generate_parameters(4).unwrap(),
        b.generate_parameters(4).unwrap()
    );
    let mut other = pbt(json!({"population_size": 4}));
    let e = other.load_state(&saved).unwrap_err().to_string();
    assert!(e.contains("population_size is 4"), "{e}");
}

#[test]
fn bad_options_name_the_option() {
    for (options, words) in [
        (
            json!({"population_size": 0}),
            "\"population_size\" must be 1 to 100000",
        ),
        (
            json!({"fraction": 1.5}),
            "\"fraction\" is a share of the population",
        ),
        (json!({"factor": -0.1}), "\"factor\""),
        (
            json!({"resample_probability": 2}),
            "\"resample_probability\" is a probability",
        ),
        (
            json!({"checkpoint_dir": " "}),
            "\"checkpoint_dir\" is empty",
        ),
    ] {
        let e = TunerClient::in_process::<PbtTuner>(&options.to_string())
            .err()
            .unwrap_or_else(|| panic!("{options} was accepted"));
        assert!(e.to_string().contains(words), "{options}: {e}");
    }
}

#[test]
fn quantised_numbers_move_by_one_quantum_and_fraction_zero_keeps_everyone() {
    let space = r#"{"n": {"_type": "quniform", "_value": [0, 100, 1]}}"#;
    let mut t = TunerClient::in_process::<PbtTuner>(
        &json!({"population_size": 1, "fraction": 1.0, "resample_probability": 0.0, "seed": 2})
            .to_string(),
    )
    .unwrap();
    t.update_search_space(space).unwrap();
    let n = |p: &Value| p["n"]["_value"].as_f64().unwrap();
    let mut previous = t.generate_parameters(0).unwrap().unwrap();
    for id in 1..20 {
        t.receive_trial_result(id - 1, &previous.to_string(), "1")
            .unwrap();
        let p = t.generate_parameters(id).unwrap().unwrap();
        let step = (n(&p) - n(&previous)).abs();
        assert!(
            step == 1.0 || (step == 0.0 && [0.0, 100.0].contains(&n(&p))),
            "{previous} -> {p}"
        );
        previous = p;
    }
    // No exploitation at fraction 0: every member continues its own checkpoint as it was.
    let mut t =
        pbt(json!({"population_size": 3, "fraction": 0.0, "seed": 4, "checkpoint_dir": "/ck"}));
    let gen0: Vec<Value> = (0..3)
        .map(|id| t.generate_parameters(id).unwrap().unwrap())
        .collect();
    for (id, p) in gen0.iter().enumerate() {
        t.receive_trial_result(id as u64, &p.to_string(), &(id as f64).to_string())
            .unwrap();
    }
    for id in 3..6 {
        assert_eq!(
            t.generate_parameters(id).unwrap().unwrap(),
            gen0[id as usize - 3]
        );
        let member = id - 3;
        assert_eq!(
            info(&mut t, id)["checkpoint"]["load"],
            format!("/ck/{member}/0")
        );
    }
}
