//! NNI's nested choices: a `choice` whose candidates are objects with a `_name`, each
//! holding a sub-space that only matters when that candidate is chosen:
//!
//! ```json
//! {"layer": {"_type": "choice", "_value": [
//!     {"_name": "empty"},
//!     {"_name": "conv", "kernel": {"_type": "choice", "_value": [3, 5]},
//!                       "lr": {"_type": "loguniform", "_value": [0.001, 0.1]}}]}}
//! ```
//!
//! archon flattens them: the parent is a choice among the `_name`s, and each
//! sub-parameter is a choice point of its own, named by its path (`layer/1/kernel`:
//! parent, candidate index, key), with the condition under which it is active. Tuners
//! see an ordinary list of choice points; an architecture holds a selection for every
//! one, and the inactive ones are set to a fixed placeholder so that two architectures
//! that differ only where nothing is active are the same. In parameters only the
//! active branch appears, inside the parent's entry:
//! `{"layer": {"_value": "conv", "_idx": 1, "kernel": {"_value": 5, "_idx": 1}, "lr": {"_value": 0.01}}}`.

use super::condition::Condition;
use super::{
    architecture::Selection,
    numeric::{Prior, Real},
    search_space::{ChoiceKind, ChoicePoint, SearchSpace},
};
use serde_json::{Map, Value};

impl SearchSpace {
    /// Whether choice point `k` matters for `selections` (it is not in a nested
    /// sub-space whose candidate was not chosen).
    pub fn is_active(&self, k: usize, selections: &[Selection]) -> bool {
        match self.choices()[k].condition() {
            None => true,
            Some(c) => {
                selections.get(c.parent) == Some(&Selection::One(c.candidate))
                    && self.is_active(c.parent, selections)
            }
        }
    }

    /// `selections` with every inactive choice point set to its placeholder.
    pub fn canonical(&self, mut selections: Vec<Selection>) -> Vec<Selection> {
        // Parents come before their sub-parameters, so one pass sees final parents.
        for k in 0..selections.len().min(self.choices().len()) {
            if !self.is_active(k, &selections) {
                selections[k] = self.choices()[k].placeholder();
            }
        }
        selections
    }

    /// Whether any choice point lives in a nested sub-space.
    pub fn has_nested(&self) -> bool {
        self.choices().iter().any(|c| c.condition().is_some())
    }

    /// The sub-parameters of choice `parent`'s candidate `candidate`, in order.
    pub(crate) fn children(&self, parent: usize, candidate: usize) -> Vec<usize> {
        (0..self.choices().len())
            .filter(|&k| self.choices()[k].condition() == Some(Condition { parent, candidate }))
            .collect()
    }

    /// The JSON entry (`{"_type": …, "_value": …}`) of choice `k`, nested sub-spaces
    /// included.
    pub(crate) fn entry_json(&self, k: usize) -> Value {
        let choice = &self.choices()[k];
        if !choice.is_nested() {
            return choice.kind().to_json();
        }
        let candidates: Vec<Value> = (0..choice.num_candidates())
            .map(|i| {
                let mut obj = Map::new();
                obj.insert("_name".into(), choice.candidate_value(i));
                for sub in self.children(k, i) {
                    obj.insert(self.choices()[sub].key().to_string(), self.entry_json(sub));
                }
                Value::Object(obj)
            })
            .collect();
        serde_json::json!({"_type": "choice", "_value": candidates})
    }
}

impl ChoicePoint {
    /// The fixed selection an inactive choice point holds: the first candidate (the
    /// first `n_chosen` inputs), or a number's prior centre.
    pub fn placeholder(&self) -> Selection {
        match self.kind() {
            ChoiceKind::Input { n_chosen, .. } => {
                Selection::Many((0..n_chosen.unwrap_or(0)).collect())
            }
            ChoiceKind::Numeric(n) => {
                let centre = match n.prior() {
                    Prior::Uniform { low, high } => (low + high) / 2.0,
                    Prior::Normal { mu, .. } => mu,
                };
                Selection::Number(Real(n.value_of_draw(centre)))
            }
            _ => Selection::One(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::space::{Architecture, SearchSpace, Selection};
    use serde_json::json;

    const NESTED: &str = r#"{
        "layer": {"_type": "choice", "_value": [
            {"_name": "empty"},
            {"_name": "conv", "kernel": {"_type": "choice", "_value": [3, 5]},
                              "lr": {"_type": "loguniform", "_value": [0.001, 0.1]}},
            {"_name": "pool", "kind": {"_type": "choice", "_value": [
                {"_name": "max"},
                {"_name": "avg", "size": {"_type": "randint", "_value": [2, 4]}}]}}]},
        "width": {"_type": "choice", "_value": [16, 32]}
    }"#;

    fn space() -> SearchSpace {
        SearchSpace::from_json_str(NESTED).unwrap()
    }

    #[test]
    fn nested_choices_flatten_into_paths_and_round_trip() {
        let s = space();
        let names: Vec<&str> = s.choices().iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "layer",
                "layer/1/kernel",
                "layer/1/lr",
                "layer/2/kind",
                "layer/2/kind/1/size",
                "width"
            ]
        );
        assert_eq!(s.choices()[0].candidate_value(1), json!("conv"));
        assert_eq!(s.size(), None, "a nested space is not numbered");
        let again = SearchSpace::from_json(&s.to_json()).unwrap();
        assert_eq!(again, s);
        assert_eq!(
            s.to_json(),
            serde_json::from_str::<serde_json::Value>(NESTED).unwrap()
        );
    }

    #[test]
    fn parameters_hold_only_the_active_branch_and_parse_back() {
        let s = space();
        let mut state = 11u128;
        let mut uniform = |n: u128| {
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64);
            (state >> 11) % n
        };
        let mut seen_kinds = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let arch = Architecture::new(&s, s.sample(&mut uniform)).unwrap();
            let json = arch.to_json(&s);
            let layer = json["layer"]["_value"].as_str().unwrap().to_string();
            let entry = json["layer"].as_object().unwrap();
            match layer.as_str() {
                "empty" => assert_eq!(entry.len(), 2, "{json}"),
                "conv" => {
                    assert!(
                        entry.contains_key("kernel") && entry.contains_key("lr"),
                        "{json}"
                    );
                    assert!(!entry.contains_key("kind"));
                }
                "pool" => {
                    let kind = json["layer"]["kind"]["_value"].as_str().unwrap();
                    assert_eq!(
                        json["layer"]["kind"].get("size").is_some(),
                        kind == "avg",
                        "{json}"
                    );
                }
                other => panic!("{other}"),
            }
            seen_kinds.insert(layer);
            assert_eq!(Architecture::from_json(&s, &json).unwrap(), arch, "{json}");
        }
        assert_eq!(seen_kinds.len(), 3);
    }

    #[test]
    fn inactive_choices_are_placeholders_and_foreign_keys_are_refused() {
        let s = space();
        // "empty" with a kernel picked: the kernel is inactive, so it is the placeholder.
        let arch = Architecture::new(
            &s,
            vec![
                Selection::One(0),
                Selection::One(1),
                Selection::Number(crate::space::Real(0.05)),
                Selection::One(1),
                Selection::One(1),
                Selection::One(0),
            ],
        )
        .unwrap();
        assert_eq!(arch.selections()[1], Selection::One(0));
        assert_eq!(arch.selections()[4], Selection::One(0));
        let e = Architecture::from_json(
            &s,
            &json!({"layer": {"_value": "empty", "_idx": 0, "kernel": {"_value": 5, "_idx": 1}},
                    "width": {"_value": 16, "_idx": 0}}),
        )
        .unwrap_err();
        assert!(
            e.message()
                .contains("at \"layer\": \"kernel\" is not a parameter of candidate \"empty\""),
            "{e}"
        );
        let e = Architecture::from_json(
            &s,
            &json!({"layer": {"_value": "conv", "_idx": 1, "kernel": {"_value": 5, "_idx": 1}},
                    "width": {"_value": 16, "_idx": 0}}),
        )
        .unwrap_err();
        assert!(
            e.message().contains("the choice \"layer/1/lr\" is missing"),
            "{e}"
        );
    }
}
