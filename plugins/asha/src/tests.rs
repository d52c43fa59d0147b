//! Behaviour of ASHA, driven through the same adapter a loaded plugin uses.

use crate::AshaTuner;
use archon_plugin_api::{conformance::check_tuner, TunerClient};
use serde_json::Value;

const SPACE: &str = r#"{
    "a": {"_type": "layer_choice", "_value": ["p", "q", "r", "s", "t"]},
    "b": {"_type": "randint", "_value": [0, 8]},
    "lr": {"_type": "loguniform", "_value": [0.001, 0.1]}
}"#;

fn tuner(options: &str) -> TunerClient {
    let mut t = TunerClient::in_process::<AshaTuner>(options).unwrap();
    t.update_search_space(SPACE).unwrap();
    t
}

/// A score that grows with the budget and with the architecture's quality.
fn score(p: &Value, budget: f64) -> f64 {
    let quality = p["a"]["_idx"].as_f64().unwrap() + p["b"]["_value"].as_f64().unwrap();
    quality * (1.0 - (-budget / 3.0).exp())
}

#[test]
fn passes_the_conformance_kit_in_process() {
    let report = check_tuner(&|options: &str| TunerClient::in_process::<AshaTuner>(options));
    assert!(report.passed(), "{report}");
}

#[test]
fn promotes_the_top_third_of_a_rung_best_first_then_starts_new_ones() {
    let mut t = tuner(r#"{"seed": 1, "min_budget": 1, "max_budget": 9}"#);
    let mut params = Vec::new();
    for id in 0..9 {
        let p = t.generate_parameters(id).unwrap().unwrap();
        let info = t.trial_info(id).unwrap().unwrap();
        assert_eq!(info["budget"], 1.0);
        assert_eq!(info["rung"], 0);
        params.push(p);
    }
    // Metric = the trial id: trials 8, 7, 6 are the top third.
    for (id, p) in params.iter().enumerate() {
        t.receive_trial_result(id as u64, &p.to_string(), &id.to_string())
            .unwrap();
        t.trial_end(id as u64, true).unwrap();
    }
    for (new, from) in [(9, 8), (10, 7), (11, 6)] {
        let p = t.generate_parameters(new).unwrap().unwrap();
        let info = t.trial_info(new).unwrap().unwrap();
        assert_eq!(info["promoted_from"], from, "{info}");
        assert_eq!(
            (info["budget"].as_f64(), info["rung"].as_u64()),
            (Some(3.0), Some(1))
        );
        assert_eq!(
            p, params[from as usize],
            "a promotion continues the same architecture"
        );
    }
    t.generate_parameters(12).unwrap().unwrap();
    let info = t.trial_info(12).unwrap().unwrap();
    assert_eq!(
        info["rung"], 0,
        "nothing left to promote: a new architecture"
    );
    assert!(info.get("promoted_from").is_none());
}

#[test]
fn a_saved_schedule_resumes_identically() {
    let run = |t: &mut TunerClient, ids: std::ops::Range<u64>| -> Vec<String> {
        ids.map(|id| {
            let p = t.generate_parameters(id).unwrap().unwrap();
            let b = t.trial_info(id).unwrap().unwrap()["budget"]
                .as_f64()
                .unwrap();
            t.receive_trial_result(id, &p.to_string(), &score(&p, b).to_string())
                .unwrap();
            t.trial_end(id, true).unwrap();
            format!("{p} @ {b}")
        })
        .collect()
    };
    let options = r#"{"seed": 4, "max_budget": 9}"#;
    let mut a = tuner(options);
    run(&mut a, 0..20);
    let saved = a.save_state().unwrap();
    let rest = run(&mut a, 20..40);
    let mut b = tuner(options);
    b.load_state(&saved).unwrap();
    assert_eq!(run(&mut b, 20..40), rest);
}

#[test]
fn bad_budgets_are_refused_by_name() {
    let e = TunerClient::in_process::<AshaTuner>(r#"{"min_budget": 5, "max_budget": 2}"#)
        .err()
        .unwrap();
    assert!(
        e.message()
            .contains("asha: budgets: need 0 < min_budget ≤ max_budget"),
        "{e}"
    );
    let e = TunerClient::in_process::<AshaTuner>(r#"{"eta": 1}"#)
        .err()
        .unwrap();
    assert!(e.message().contains("eta must be a number above 1"), "{e}");
}

/// Results of trials it did not start (the host's pre-filter picks) count as
/// proposed: ASHA never starts those architectures again.
#[test]
fn never_starts_an_architecture_it_was_told_about() {
    let space = r#"{"a": {"_type": "layer_choice", "_value": ["p", "q", "r"]},
                    "b": {"_type": "choice", "_value": [1, 2]}}"#;
    let mut t =
        TunerClient::in_process::<AshaTuner>(r#"{"seed": 4, "min_budget": 1, "max_budget": 1}"#)
            .unwrap();
    t.update_search_space(space).unwrap();
    let arch = |a: usize, b: usize| {
        let (name, value) = (["p", "q", "r"][a], [1, 2][b]);
        serde_json::json!({"a": {"_value": name, "_idx": a}, "b": {"_value": value, "_idx": b}})
    };
    let told = [arch(0, 0), arch(1, 1), arch(2, 0), arch(0, 1)];
    for (k, p) in told.iter().enumerate() {
        let id = 100 + k as u64;
        t.receive_trial_result(id, &p.to_string(), "0.5").unwrap();
        t.trial_end(id, true).unwrap();
    }
    let mut started = Vec::new();
    for id in 0..10 {
        match t.generate_parameters(id).unwrap() {
            Some(p) => {
                assert!(!told.contains(&p), "started a told architecture again: {p}");
                t.receive_trial_result(id, &p.to_string(), "0.1").unwrap();
                t.trial_end(id, true).unwrap();
                started.push(p);
            }
            None => break,
        }
    }
    assert_eq!(started.len(), 2, "the 2 architectures left: {started:?}");
}
