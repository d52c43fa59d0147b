//! Error texts and round trips of search spaces and architectures.

use super::*;
use serde_json::json;

fn space_err(text: &str) -> String {
    SearchSpace::from_json_str(text)
        .unwrap_err()
        .message()
        .to_string()
}

const SPACE: &str = r#"{
    "op": {"_type": "layer_choice", "_value": ["conv", "pool", "skip"]},
    "skip": {"_type": "input_choice", "_value": {"candidates": ["x0", "x1", "x2"], "n_chosen": 2}},
    "width": {"_type": "choice", "_value": [16, 32]}
}"#;

fn space() -> SearchSpace {
    SearchSpace::from_json_str(SPACE).unwrap()
}

fn arch_err(value: serde_json::Value) -> String {
    Architecture::from_json(&space(), &value)
        .unwrap_err()
        .message()
        .to_string()
}

#[test]
fn keeps_document_order_and_round_trips() {
    let s = space();
    let names: Vec<&str> = s.choices().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["op", "skip", "width"]);
    assert_eq!(SearchSpace::from_json(&s.to_json()).unwrap(), s);
    assert_eq!(s.size(), Some(3 * 3 * 2));
}

#[test]
fn malformed_spaces_say_where_and_what() {
    let cases = [
        ("{\"op\": ", "search space: not valid JSON (line 1, column 7)"),
        ("[1]", "search space: expected a JSON object of named choices"),
        (r#"{"op": 3}"#, "search space: at \"op\": expected an object {\"_type\": ..., \"_value\": ...}, found the number 3"),
        (r#"{"op": {"_value": [1]}}"#, "search space: at \"op\": missing \"_type\""),
        (r#"{"op": {"_type": "layer_choice"}}"#, "search space: at \"op\": missing \"_value\""),
        (r#"{"op": {"_type": "layer_choice", "_vlaue": []}}"#, "search space: at \"op\": unknown key \"_vlaue\""),
        (r#"{"op": {"_type": "unifrom", "_value": [0, 1]}}"#, "search space: at \"op\"._type: unknown type \"unifrom\"; archon reads \"layer_choice\""),
        (r#"{"lr": {"_type": "loguniform", "_value": [0, 1]}}"#, "search space: at \"lr\"._value: a loguniform needs 0 < low, found low = 0"),
        (r#"{"lr": {"_type": "uniform", "_value": [0, "1"]}}"#, "search space: at \"lr\"._value[1]: expected a number, found the string \"1\""),
        (r#"{"lr": {"_type": "qnormal", "_value": [0, 1]}}"#, "search space: at \"lr\"._value: a qnormal takes [mu, sigma, q], found 2 numbers"),
        (r#"{"n": {"_type": "randint", "_value": [3, 3]}}"#, "search space: at \"n\"._value: randint [3, 3) holds no integer"),
        (r#"{"op": {"_type": "layer_choice", "_value": []}}"#, "search space: at \"op\"._value: the list of candidates is empty"),
        (r#"{"op": {"_type": "layer_choice", "_value": ["a", 1]}}"#, "search space: at \"op\"._value[1]: expected a candidate name (string), found the number 1"),
        (r#"{"skip": {"_type": "input_choice", "_value": ["a"]}}"#, "search space: at \"skip\"._value: expected {\"candidates\": [...], \"n_chosen\": k}, found an array of 1 items"),
        (r#"{"skip": {"_type": "input_choice", "_value": {"candidates": ["a", "b", "c"], "n_chosen": 4}}}"#, "search space: at \"skip\"._value.n_chosen: 4 is not a count between 0 and the 3 candidates"),
        (r#"{"skip": {"_type": "input_choice", "_value": {"candidates": ["a"], "n_chosen": "one"}}}"#, "search space: at \"skip\"._value.n_chosen: expected a whole number or null (any number), found the string \"one\""),
        (r#"{"skip": {"_type": "input_choice", "_value": {"candidates": ["a"], "reduction": "sum"}}}"#, "search space: at \"skip\"._value: unknown key \"reduction\""),
    ];
    for (text, expected) in cases {
        let e = space_err(text);
        assert!(
            e.starts_with(expected),
            "for {text}\n expected: {expected}\n      got: {e}"
        );
    }
}

#[test]
fn architectures_round_trip() {
    let s = space();
    let arch = Architecture::new(
        &s,
        vec![
            Selection::One(2),
            Selection::Many(vec![0, 2]),
            Selection::One(1),
        ],
    )
    .unwrap();
    let json = arch.to_json(&s);
    assert_eq!(
        json,
        json!({"op": {"_value": "skip", "_idx": 2}, "skip": {"_value": ["x0", "x2"], "_idx": [0, 2]}, "width": {"_value": 32, "_idx": 1}})
    );
    assert_eq!(Architecture::from_json(&s, &json).unwrap(), arch);
    // _value may be left out; _idx decides.
    let bare = json!({"op": {"_idx": 2}, "skip": {"_idx": [2, 0]}, "width": {"_idx": 1}});
    assert_eq!(Architecture::from_json(&s, &bare).unwrap(), arch);
}

#[test]
fn malformed_architectures_say_where_and_what() {
    let ok_skip = json!({"_value": ["x0", "x1"], "_idx": [0, 1]});
    let ok_width = json!({"_value": 16, "_idx": 0});
    let cases = [
        (json!([1]), "architecture: expected an object"),
        (json!({"op": {"_idx": 0}, "skip": ok_skip}), "architecture: the choice \"width\" is missing"),
        (json!({"op": {"_idx": 0}, "skip": ok_skip, "width": ok_width, "depth": {"_idx": 0}}), "architecture: at \"depth\": no such choice in the search space"),
        (json!({"op": {"_idx": 3}, "skip": ok_skip, "width": ok_width}), "architecture: at \"op\"._idx: index 3 is out of range: \"op\" has 3 candidates (0..=2)"),
        (json!({"op": {"_idx": -1}, "skip": ok_skip, "width": ok_width}), "architecture: at \"op\"._idx: expected a candidate index (whole number ≥ 0), found the number -1"),
        (json!({"op": {"_value": "pool", "_idx": 0}, "skip": ok_skip, "width": ok_width}), "architecture: at \"op\"._value: \"pool\" does not match _idx, which selects \"conv\""),
        (json!({"op": {"_idx": 0}, "skip": {"_idx": [1]}, "width": ok_width}), "architecture: at \"skip\"._idx: 1 inputs chosen, but n_chosen is 2"),
        (json!({"op": {"_idx": 0}, "skip": {"_idx": [1, 1]}, "width": ok_width}), "architecture: at \"skip\"._idx: indices must be distinct"),
        (json!({"op": {"_idx": 0}, "skip": {"_idx": 1}, "width": ok_width}), "architecture: at \"skip\"._idx: an input choice takes a list of indices, found the number 1"),
        (json!({"op": {"_idx": [0]}, "skip": ok_skip, "width": ok_width}), "architecture: at \"op\"._idx: expected a candidate index (whole number ≥ 0), found an array of 1 items"),
        (json!({"op": {"_idx": 0, "_val": 1}, "skip": ok_skip, "width": ok_width}), "architecture: at \"op\": unknown key \"_val\""),
        (json!({"op": {"_value": "conv"}, "skip": ok_skip, "width": ok_width}), "architecture: at \"op\": missing \"_idx\""),
    ];
    for (value, expected) in cases {
        let e = arch_err(value.clone());
        assert!(
            e.starts_with(expected),
            "for {value}\n expected: {expected}\n      got: {e}"
        );
    }
}

#[test]
fn empty_and_repeated_candidates_load_and_are_told_apart_by_index() {
    // NNI's own test assets have `"candidates": ["", ""]`.
    let s = SearchSpace::from_json_str(
        r#"{"skip": {"_type": "input_choice", "_value": {"candidates": ["", ""], "n_chosen": 1}},
            "op": {"_type": "layer_choice", "_value": ["a", "a", ""]},
            "w": {"_type": "choice", "_value": [1, 1]}}"#,
    )
    .unwrap();
    assert_eq!(s.size(), Some(2 * 3 * 2));
    let all: std::collections::HashSet<_> = (0..12)
        .map(|i| s.architecture_at(i).unwrap().to_json(&s).to_string())
        .collect();
    assert_eq!(all.len(), 12, "every index gives a distinct architecture");
    let arch = Architecture::from_json(
        &s,
        &json!({"skip": {"_value": [""], "_idx": [1]}, "op": {"_value": "a", "_idx": 1}, "w": {"_value": 1, "_idx": 1}}),
    )
    .unwrap();
    assert_eq!(arch.selections()[0], Selection::Many(vec![1]));
    assert_eq!(arch.selections()[1], Selection::One(1));
    assert_eq!(SearchSpace::from_json(&s.to_json()).unwrap(), s);
}

const MIXED: &str = r#"{
    "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
    "layers": {"_type": "randint", "_value": [2, 5]},
    "momentum": {"_type": "quniform", "_value": [0.5, 0.99, 0.01]},
    "noise": {"_type": "normal", "_value": [0, 1]},
    "op": {"_type": "layer_choice", "_value": ["conv", "pool"]}
}"#;

#[test]
fn numeric_types_parse_sample_and_round_trip() {
    let s = SearchSpace::from_json_str(MIXED).unwrap();
    let types: Vec<&str> = s.choices().iter().map(|c| c.type_name()).collect();
    assert_eq!(
        types,
        [
            "loguniform",
            "randint",
            "quniform",
            "normal",
            "layer_choice"
        ]
    );
    assert_eq!(
        s.size(),
        None,
        "a numeric parameter makes the space uncountable"
    );
    assert_eq!(s.choices()[1].num_candidates(), 3);
    assert_eq!(SearchSpace::from_json(&s.to_json()).unwrap(), s);
    let mut state = 7u128;
    let mut uniform = |n: u128| {
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64);
        (state >> 11) % n
    };
    for _ in 0..200 {
        let arch = Architecture::new(&s, s.sample(&mut uniform)).unwrap();
        let json = arch.to_json(&s);
        let lr = json["lr"]["_value"].as_f64().unwrap();
        assert!((0.0001..=0.1).contains(&lr));
        assert!(json["lr"].get("_idx").is_none(), "numbers carry no index");
        let layers = json["layers"]["_value"].as_i64().unwrap();
        assert!((2..5).contains(&layers), "randint is [lower, upper)");
        let m = json["momentum"]["_value"].as_f64().unwrap();
        assert!(((m * 100.0).round() - m * 100.0).abs() < 1e-9 && (0.5..=0.99).contains(&m));
        assert_eq!(Architecture::from_json(&s, &json).unwrap(), arch);
    }
}

#[test]
fn numeric_values_are_checked_against_their_type() {
    let s = SearchSpace::from_json_str(MIXED).unwrap();
    let good = json!({"lr": {"_value": 0.01}, "layers": {"_value": 3, "_idx": 1},
        "momentum": 0.9, "noise": {"_value": -3.5}, "op": {"_value": "pool", "_idx": 1}});
    Architecture::from_json(&s, &good).unwrap();
    let err = |patch: serde_json::Value| {
        let mut v = good.clone();
        for (k, x) in patch.as_object().unwrap() {
            v[k] = x.clone();
        }
        Architecture::from_json(&s, &v)
            .unwrap_err()
            .message()
            .to_string()
    };
    assert!(err(json!({"lr": {"_value": 0.5}}))
        .contains("at \"lr\"._value: 0.5 is outside the loguniform's range [0.0001, 0.1]"));
    assert!(err(json!({"lr": {"_value": "big"}})).contains(
        "at \"lr\": expected a number or {\"_value\": number}, found the string \"big\""
    ));
    assert!(err(json!({"lr": {"_value": 0.01, "_idx": 0}}))
        .contains("unknown key \"_idx\" (a numeric parameter has only \"_value\")"));
    assert!(err(json!({"layers": {"_value": 9, "_idx": 7}})).contains("index 7 is out of range"));
}

#[test]
fn a_tuner_refuses_types_it_does_not_read_by_name() {
    let s = SearchSpace::from_json_str(MIXED).unwrap();
    let e = s
        .require_types(&CATEGORICAL_TYPES, "the tuner \"grid\"")
        .unwrap_err()
        .message()
        .to_string();
    assert!(
        e.contains(
            "\"lr\" is a \"loguniform\" parameter, which the tuner \"grid\" does not support"
        ),
        "{e}"
    );
    s.require_types(&ALL_TYPES, "tpe").unwrap();
}
