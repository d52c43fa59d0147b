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
        (r#"{"op": {"_type": "uniform", "_value": [0, 1]}}"#, "search space: at \"op\"._type: unknown type \"uniform\""),
        (r#"{"op": {"_type": "layer_choice", "_value": []}}"#, "search space: at \"op\"._value: the list of candidates is empty"),
        (r#"{"op": {"_type": "layer_choice", "_value": ["a", 1]}}"#, "search space: at \"op\"._value[1]: expected a candidate name (string), found the number 1"),
        (r#"{"op": {"_type": "layer_choice", "_value": ["a", "a"]}}"#, "search space: at \"op\"._value[1]: candidate \"a\" appears twice"),
        (r#"{"w": {"_type": "choice", "_value": [1, 2, 1]}}"#, "search space: at \"w\"._value[2]: 1 appears twice"),
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
