//! Architectures (a trial's parameters): one selection per choice point of a space.

use super::numeric::Real;
use super::search_space::{describe, ChoiceKind, SearchSpace};
use crate::error::{PluginError, Result};
use serde_json::{Map, Value};

/// What one choice point picked: candidate indices into its list.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Selection {
    /// One candidate (`layer_choice`, `choice`).
    One(usize),
    /// A set of candidates, ascending and distinct (`input_choice`).
    Many(Vec<usize>),
    /// A number (the numeric types: `uniform`, `loguniform`, `normal`, ...).
    Number(Real),
}

impl Selection {
    /// The chosen candidate indices (one for `One`; none for a number).
    pub fn indices(&self) -> Vec<usize> {
        match self {
            Selection::One(i) => vec![*i],
            Selection::Many(v) => v.clone(),
            Selection::Number(_) => Vec::new(),
        }
    }
}

/// An architecture of one search space: a selection for each of its choice points, in
/// the space's order. Build one with [`Architecture::new`] or parse and validate one
/// with [`Architecture::from_json`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Architecture {
    selections: Vec<Selection>,
}

fn bad(path: &str, what: impl std::fmt::Display) -> PluginError {
    PluginError::invalid_input(format!("architecture: at {path}: {what}"))
}

impl Architecture {
    /// An architecture from one selection per choice point of `space`, checked against it.
    pub fn new(space: &SearchSpace, selections: Vec<Selection>) -> Result<Self> {
        if selections.len() != space.choices().len() {
            return Err(PluginError::invalid_input(format!(
                "architecture: {} selections for a space of {} choices",
                selections.len(),
                space.choices().len()
            )));
        }
        for (choice, selection) in space.choices().iter().zip(&selections) {
            check_selection(space, choice.name(), selection)?;
        }
        // Choices inside nested sub-spaces that were not chosen hold their placeholder.
        let selections = space.canonical(selections);
        Ok(Architecture { selections })
    }

    /// The selections, one per choice point in the space's order.
    pub fn selections(&self) -> &[Selection] {
        &self.selections
    }

    /// Parses and validates NNI-format parameters (`{"name": {"_value": ..., "_idx": ...}}`)
    /// against `space`: every choice present, no unknown keys, indices in range and
    /// consistent with values, the right number of inputs chosen.
    pub fn from_json(space: &SearchSpace, value: &Value) -> Result<Self> {
        let Value::Object(map) = value else {
            return Err(PluginError::invalid_input(format!(
                "architecture: expected an object {{\"choice name\": {{\"_value\": ..., \"_idx\": ...}}}}, found {}",
                describe(value)
            )));
        };
        let top: Vec<usize> = (0..space.choices().len())
            .filter(|&k| space.choices()[k].condition().is_none())
            .collect();
        if let Some(unknown) = map.keys().find(|key| {
            !top.iter()
                .any(|&k| space.choices()[k].key() == key.as_str())
        }) {
            return Err(bad(
                &format!("\"{unknown}\""),
                "no such choice in the search space",
            ));
        }
        let mut selections: Vec<Option<Selection>> = vec![None; space.choices().len()];
        for k in top {
            let choice = &space.choices()[k];
            let entry = map
                .get(choice.key())
                .ok_or_else(|| missing(choice.name()))?;
            parse_entry(space, k, entry, &mut selections)?;
        }
        let selections = selections
            .into_iter()
            .zip(space.choices())
            .map(|(s, c)| s.unwrap_or_else(|| c.placeholder()))
            .collect();
        Ok(Architecture {
            selections: space.canonical(selections),
        })
    }

    /// The architecture in NNI's format: `{"name": {"_value": ..., "_idx": ...}}`.
    pub fn to_json(&self, space: &SearchSpace) -> Value {
        let map: Map<String, Value> = (0..space.choices().len())
            .filter(|&k| space.choices()[k].condition().is_none())
            .map(|k| {
                (
                    space.choices()[k].key().to_string(),
                    self.entry_json(space, k),
                )
            })
            .collect();
        Value::Object(map)
    }

    /// Choice `k`'s entry: `{"_value": …, "_idx": …}` (a number: `{"_value": x}`), with
    /// the active sub-parameters of a nested choice inside it.
    fn entry_json(&self, space: &SearchSpace, k: usize) -> Value {
        let choice = &space.choices()[k];
        let selection = &self.selections[k];
        let value = selection_value(space, choice.name(), selection);
        let mut entry = match selection {
            Selection::One(i) => serde_json::json!({"_value": value, "_idx": i}),
            Selection::Many(v) => serde_json::json!({"_value": value, "_idx": v}),
            Selection::Number(x) => serde_json::json!({"_value": x.0}),
        };
        if let (true, Selection::One(i)) = (choice.is_nested(), selection) {
            for sub in space.children(k, *i) {
                entry[space.choices()[sub].key()] = self.entry_json(space, sub);
            }
        }
        entry
    }
}

fn missing(name: &str) -> PluginError {
    PluginError::invalid_input(format!("architecture: the choice \"{name}\" is missing"))
}

/// Parses choice `k`'s entry into `selections` (and, for a nested choice, the entries
/// of the chosen candidate's sub-parameters, which sit inside it).
fn parse_entry(
    space: &SearchSpace,
    k: usize,
    entry: &Value,
    selections: &mut [Option<Selection>],
) -> Result<()> {
    let choice = &space.choices()[k];
    let path = format!("\"{}\"", choice.name());
    if choice.is_numeric() {
        let selection = number(&path, entry)?;
        check_selection(space, choice.name(), &selection)?;
        selections[k] = Some(selection);
        return Ok(());
    }
    let Value::Object(entry) = entry else {
        return Err(bad(
            &path,
            format!(
                "expected {{\"_value\": ..., \"_idx\": ...}}, found {}",
                describe(entry)
            ),
        ));
    };
    let idx = entry
        .get("_idx")
        .ok_or_else(|| bad(&path, "missing \"_idx\""))?;
    let idx_path = format!("{path}._idx");
    let selection = match choice.kind() {
        ChoiceKind::Input { .. } => {
            let Value::Array(items) = idx else {
                return Err(bad(
                    &idx_path,
                    format!(
                        "an input choice takes a list of indices, found {}",
                        describe(idx)
                    ),
                ));
            };
            let mut indices = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                indices.push(index(&format!("{idx_path}[{i}]"), item)?);
            }
            indices.sort_unstable();
            Selection::Many(indices)
        }
        _ => Selection::One(index(&idx_path, idx)?),
    };
    check_selection(space, choice.name(), &selection)?;
    // The sub-parameters the chosen candidate has (a nested choice), by key.
    let subs: Vec<usize> = match (choice.is_nested(), &selection) {
        (true, Selection::One(i)) => space.children(k, *i),
        _ => Vec::new(),
    };
    if let Some(key) = entry.keys().find(|key| {
        *key != "_value"
            && *key != "_idx"
            && !subs
                .iter()
                .any(|&s| space.choices()[s].key() == key.as_str())
    }) {
        return Err(if choice.is_nested() {
            bad(
                &path,
                format!(
                    "\"{key}\" is not a parameter of candidate {}",
                    selection_value(space, choice.name(), &selection)
                ),
            )
        } else {
            bad(
                &path,
                format!("unknown key \"{key}\" (expected \"_value\" and \"_idx\")"),
            )
        });
    }
    if let Some(given) = entry.get("_value") {
        let expected = selection_value(space, choice.name(), &selection);
        let same = match (given, &expected) {
            (Value::Array(g), Value::Array(e)) => {
                let mut g = g.clone();
                g.sort_by_key(|v| v.to_string());
                let mut e = e.clone();
                e.sort_by_key(|v| v.to_string());
                g == e
            }
            (g, e) => g == e,
        };
        if !same {
            return Err(bad(
                &format!("{path}._value"),
                format!("{given} does not match _idx, which selects {expected}"),
            ));
        }
    }
    selections[k] = Some(selection);
    for sub in subs {
        let sub_entry = entry
            .get(space.choices()[sub].key())
            .ok_or_else(|| missing(space.choices()[sub].name()))?;
        parse_entry(space, sub, sub_entry, selections)?;
    }
    Ok(())
}

/// A numeric parameter's value: `{"_value": x}` (archon's form) or a bare `x` (NNI's
/// HPO form).
fn number(path: &str, entry: &Value) -> Result<Selection> {
    let value = match entry {
        Value::Object(obj) => {
            if let Some(key) = obj.keys().find(|k| *k != "_value") {
                return Err(bad(
                    path,
                    format!("unknown key \"{key}\" (a numeric parameter has only \"_value\")"),
                ));
            }
            obj.get("_value")
                .ok_or_else(|| bad(path, "missing \"_value\""))?
        }
        other => other,
    };
    value
        .as_f64()
        .map(|x| Selection::Number(Real(x)))
        .ok_or_else(|| {
            bad(
                path,
                format!(
                    "expected a number or {{\"_value\": number}}, found {}",
                    describe(value)
                ),
            )
        })
}

fn index(path: &str, value: &Value) -> Result<usize> {
    value.as_u64().map(|i| i as usize).ok_or_else(|| {
        bad(
            path,
            format!(
                "expected a candidate index (whole number ≥ 0), found {}",
                describe(value)
            ),
        )
    })
}

fn selection_value(space: &SearchSpace, name: &str, selection: &Selection) -> Value {
    let Some((_, choice)) = space.choice(name) else {
        return Value::Null;
    };
    match selection {
        Selection::One(i) => choice.candidate_value(*i),
        Selection::Many(v) => Value::Array(v.iter().map(|i| choice.candidate_value(*i)).collect()),
        Selection::Number(x) => Value::from(x.0),
    }
}

fn check_selection(space: &SearchSpace, name: &str, selection: &Selection) -> Result<()> {
    let Some((_, choice)) = space.choice(name) else {
        return Err(bad(
            &format!("\"{name}\""),
            "no such choice in the search space",
        ));
    };
    let path = format!("\"{name}\"._idx");
    let n = choice.num_candidates();
    match (choice.kind(), selection) {
        (ChoiceKind::Numeric(numeric), Selection::Number(x)) => numeric
            .check(x.0)
            .map_err(|e| bad(&format!("\"{name}\"._value"), e)),
        (ChoiceKind::Numeric(numeric), _) => Err(bad(
            &format!("\"{name}\""),
            format!("a {} parameter takes a number", numeric.kind.name()),
        )),
        (_, Selection::Number(_)) => Err(bad(
            &path,
            format!(
                "a {} takes a candidate index, not a number",
                choice.type_name()
            ),
        )),
        (ChoiceKind::Input { n_chosen, .. }, Selection::Many(indices)) => {
            if let Some(&i) = indices.iter().find(|&&i| i >= n) {
                return Err(bad(
                    &path,
                    format!(
                        "index {i} is out of range: \"{name}\" has {n} candidates (0..={})",
                        n - 1
                    ),
                ));
            }
            if indices.windows(2).any(|w| w[0] >= w[1]) {
                return Err(bad(
                    &path,
                    "indices must be distinct (each input chosen at most once)",
                ));
            }
            if let Some(k) = n_chosen {
                if indices.len() != *k {
                    return Err(bad(
                        &path,
                        format!("{} inputs chosen, but n_chosen is {k}", indices.len()),
                    ));
                }
            }
            Ok(())
        }
        (ChoiceKind::Input { .. }, Selection::One(_)) => {
            Err(bad(&path, "an input choice takes a list of indices"))
        }
        (_, Selection::One(i)) if *i >= n => Err(bad(
            &path,
            format!(
                "index {i} is out of range: \"{name}\" has {n} candidates (0..={})",
                n - 1
            ),
        )),
        (_, Selection::One(_)) => Ok(()),
        (_, Selection::Many(_)) => Err(bad(
            &path,
            format!("a {} takes one index, not a list", choice.type_name()),
        )),
    }
}
