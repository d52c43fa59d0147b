//! Behaviour of Hyperband, driven through the same adapter a loaded plugin uses.

use crate::HyperbandTuner;
use archon_plugin_api::{conformance::check_tuner, TunerClient};
use serde_json::Value;

const SPACE: &str = r#"{
    "a": {"_type": "layer_choice", "_value": ["p", "q", "r", "s", "t"]},
    "b": {"_type": "randint", "_value": [0, 8]},
    "lr": {"_type": "loguniform", "_value": [0.001, 0.1]}
}"#;

fn tuner(options: &str) -> TunerClient {
    let mut t = TunerClient::in_process::<HyperbandTuner>(options).unwrap();
    t.update_search_space(SPACE).unwrap();
    t
}

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<HyperbandTuner>(options));
    assert!(report.passed(), "{report}");
}

/// Runs trials one at a time (each result in before the next proposal), metric =
/// the architecture's `b` value; returns (budget, rung, bracket, promoted_from).
fn sequential(t: &mut TunerClient, n: u64) -> Vec<(f64, u64, u64, Option<u64>, Value)> {
    (0..n)
        .map(|id| {
            let p = t.generate_parameters(id).unwrap().unwrap();
            let info = t.trial_info(id).unwrap().unwrap();
            let metric = p["b"]["_value"].as_f64().unwrap();
            t.receive_trial_result(id, &p.to_string(), &metric.to_string())
                .unwrap();
            t.trial_end(id, true).unwrap();
            (
                info["budget"].as_f64().unwrap(),
                info["rung"].as_u64().unwrap(),
                info["bracket"].as_u64().unwrap(),
                info["promoted_from"].as_u64(),
                p,
            )
        })
        .collect()
}

#[test]
fn brackets_follow_the_paper_s_schedule() {
    // R = 9, η = 3: rungs 1, 3, 9 (K = 2). Bracket s=2: 9 at budget 1, 3 at 3, 1 at 9;
    // s=1: ⌈3/2·3⌉ = 5 at 3, 1 at 9; s=0: 3 at 9.
    let mut t = tuner(r#"{"seed": 2, "max_budget": 9}"#);
    let runs = sequential(&mut t, 9 + 3 + 1 + 5 + 1 + 3);
    let budgets: Vec<f64> = runs.iter().map(|r| r.0).collect();
    let mut expected = vec![1.0; 9];
    expected.extend([3.0; 3]);
    expected.push(9.0);
    expected.extend([3.0; 5]);
    expected.push(9.0);
    expected.extend([9.0; 3]);
    assert_eq!(budgets, expected);
    let brackets: Vec<u64> = runs.iter().map(|r| r.2).collect();
    assert_eq!(&brackets[..13], &[0; 13]);
    assert_eq!(&brackets[13..19], &[1; 6]);
    assert_eq!(&brackets[19..], &[2; 3]);
    // The 3 promoted from rung 0 are the best 3 of its 9, best first, same architectures.
    let mut rung0: Vec<(f64, u64)> = (0..9)
        .map(|i| (runs[i].4["b"]["_value"].as_f64().unwrap(), i as u64))
        .collect();
    rung0.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (k, run) in runs[9..12].iter().enumerate() {
        let from = run.3.unwrap();
        assert_eq!(from, rung0[k].1);
        assert_eq!(run.4, runs[from as usize].4);
    }
    // Rung 1 ran best first, so the one that continues to budget 9 is trial 9.
    assert_eq!(runs[12].3, Some(9));
}

#[test]
fn waits_for_a_rung_when_the_space_has_nothing_new() {
    // 2 architectures in all, R = 3: bracket 0 starts both at budget 1 and must then
    // wait for their results before promoting the better one.
    let space = r#"{"a": {"_type": "layer_choice", "_value": ["x", "y"]}}"#;
    let mut t =
        TunerClient::in_process::<HyperbandTuner>(r#"{"seed": 1, "max_budget": 3}"#).unwrap();
    t.update_search_space(space).unwrap();
    let p0 = t.generate_parameters(0).unwrap().unwrap();
    let p1 = t.generate_parameters(1).unwrap().unwrap();
    assert_eq!(
        t.generate_parameters(2).unwrap(),
        None,
        "waiting for rung 0"
    );
    for (id, p) in [(0, &p0), (1, &p1)] {
        let m = p["a"]["_idx"].as_f64().unwrap();
        t.receive_trial_result(id, &p.to_string(), &m.to_string())
            .unwrap();
        t.trial_end(id, true).unwrap();
    }
    let promoted = t.generate_parameters(2).unwrap().unwrap();
    assert_eq!(promoted["a"]["_idx"], 1, "the better one continues");
    assert_eq!(t.trial_info(2).unwrap().unwrap()["budget"], 3.0);
}

#[test]
fn a_saved_schedule_resumes_identically() {
    let options = r#"{"seed": 6, "max_budget": 27}"#;
    let mut a = tuner(options);
    sequential(&mut a, 25);
    let saved = a.save_state().unwrap();
    let run_from = |t: &mut TunerClient| -> Vec<String> {
        (25..60)
            .map(|id| {
                let p = t.generate_parameters(id).unwrap().unwrap();
                let info = t.trial_info(id).unwrap().unwrap();
                t.receive_trial_result(id, &p.to_string(), &p["b"]["_value"].to_string())
                    .unwrap();
                t.trial_end(id, true).unwrap();
                format!("{p} {info}")
            })
            .collect()
    };
    let rest = run_from(&mut a);
    let mut b = tuner(options);
    b.load_state(&saved).unwrap();
    assert_eq!(run_from(&mut b), rest);
}
