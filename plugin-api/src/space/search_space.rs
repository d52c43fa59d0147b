//! The search-space type and its parser/validator.

use crate::error::{PluginError, Result};
use serde_json::{Map, Value};

/// One named decision of a search space.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoicePoint {
    name: String,
    kind: ChoiceKind,
}

/// What a choice point chooses among.
#[derive(Debug, Clone, PartialEq)]
pub enum ChoiceKind {
    /// `layer_choice`: exactly one of the candidate operations.
    Layer {
        /// Candidate names, unique.
        candidates: Vec<String>,
    },
    /// `input_choice`: `n_chosen` of the candidate inputs (any number when `None`).
    Input {
        /// Candidate input names, unique.
        candidates: Vec<String>,
        /// How many to choose; `None` means any subset, including none.
        n_chosen: Option<usize>,
    },
    /// `choice`: exactly one of some plain JSON values (a width, a kernel size, ...).
    Value {
        /// The values, unique.
        values: Vec<Value>,
    },
}

impl ChoicePoint {
    /// The choice point's name (its key in the search space).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// What it chooses among.
    pub fn kind(&self) -> &ChoiceKind {
        &self.kind
    }
    /// The number of candidates it chooses from.
    pub fn num_candidates(&self) -> usize {
        match &self.kind {
            ChoiceKind::Layer { candidates } | ChoiceKind::Input { candidates, .. } => {
                candidates.len()
            }
            ChoiceKind::Value { values } => values.len(),
        }
    }
    /// Candidate `i` as it appears in an architecture's `_value`.
    pub fn candidate_value(&self, i: usize) -> Value {
        match &self.kind {
            ChoiceKind::Layer { candidates } | ChoiceKind::Input { candidates, .. } => {
                Value::String(candidates[i].clone())
            }
            ChoiceKind::Value { values } => values[i].clone(),
        }
    }
    /// The NNI `_type` of this choice point.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ChoiceKind::Layer { .. } => "layer_choice",
            ChoiceKind::Input { .. } => "input_choice",
            ChoiceKind::Value { .. } => "choice",
        }
    }
}

/// A validated search space: its choice points in the order of the JSON document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchSpace {
    choices: Vec<ChoicePoint>,
}

/// The `_type`s archon reads.
const SUPPORTED_TYPES: &str = "\"layer_choice\", \"input_choice\" or \"choice\"";

fn bad(path: &str, what: impl std::fmt::Display) -> PluginError {
    PluginError::invalid_input(format!("search space: at {path}: {what}"))
}

impl SearchSpace {
    /// Parses and validates a search space from JSON text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            PluginError::invalid_input(format!(
                "search space: not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })?;
        Self::from_json(&value)
    }

    /// Validates a search space given as a JSON value.
    pub fn from_json(value: &Value) -> Result<Self> {
        let Value::Object(map) = value else {
            return Err(PluginError::invalid_input(format!(
                "search space: expected a JSON object of named choices like {{\"conv1\": {{\"_type\": \"layer_choice\", \"_value\": [...]}}}}, found {}",
                describe(value)
            )));
        };
        let choices = map
            .iter()
            .map(|(name, entry)| parse_choice(name, entry))
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchSpace { choices })
    }

    /// The choice points, in document order.
    pub fn choices(&self) -> &[ChoicePoint] {
        &self.choices
    }

    /// The choice point called `name`, with its position.
    pub fn choice(&self, name: &str) -> Option<(usize, &ChoicePoint)> {
        self.choices
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }

    /// The space back in NNI's JSON format.
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = self
            .choices
            .iter()
            .map(|c| {
                let value = match &c.kind {
                    ChoiceKind::Layer { candidates } => serde_json::json!(candidates),
                    ChoiceKind::Input {
                        candidates,
                        n_chosen,
                    } => serde_json::json!({"candidates": candidates, "n_chosen": n_chosen}),
                    ChoiceKind::Value { values } => Value::Array(values.clone()),
                };
                (
                    c.name.clone(),
                    serde_json::json!({"_type": c.type_name(), "_value": value}),
                )
            })
            .collect();
        Value::Object(map)
    }
}

/// A short description of a JSON value's type, for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

fn parse_choice(name: &str, entry: &Value) -> Result<ChoicePoint> {
    let path = format!("\"{name}\"");
    if name.is_empty() {
        return Err(bad("\"\"", "a choice needs a non-empty name"));
    }
    let Value::Object(entry) = entry else {
        return Err(bad(
            &path,
            format!(
                "expected an object {{\"_type\": ..., \"_value\": ...}}, found {}",
                describe(entry)
            ),
        ));
    };
    if let Some(key) = entry.keys().find(|k| *k != "_type" && *k != "_value") {
        return Err(bad(
            &path,
            format!("unknown key \"{key}\" (a choice has only \"_type\" and \"_value\")"),
        ));
    }
    let type_name = match entry.get("_type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => {
            return Err(bad(
                &format!("{path}._type"),
                format!("expected {SUPPORTED_TYPES}, found {}", describe(other)),
            ))
        }
        None => {
            return Err(bad(
                &path,
                format!("missing \"_type\" (one of {SUPPORTED_TYPES})"),
            ))
        }
    };
    let value = entry
        .get("_value")
        .ok_or_else(|| bad(&path, "missing \"_value\""))?;
    let value_path = format!("{path}._value");
    let kind = match type_name {
        "layer_choice" => ChoiceKind::Layer {
            candidates: names(&value_path, value)?,
        },
        "input_choice" => parse_input_choice(&value_path, value)?,
        "choice" => {
            let values = non_empty_array(&value_path, value)?;
            for (i, v) in values.iter().enumerate() {
                if values[..i].contains(v) {
                    return Err(bad(
                        &format!("{value_path}[{i}]"),
                        format!("{v} appears twice; values must be unique"),
                    ));
                }
            }
            ChoiceKind::Value {
                values: values.clone(),
            }
        }
        other => {
            return Err(bad(
                &format!("{path}._type"),
                format!(
                "unknown type {other:?}; archon reads {SUPPORTED_TYPES} (NNI's classic-NAS format)"
            ),
            ))
        }
    };
    Ok(ChoicePoint {
        name: name.to_string(),
        kind,
    })
}

fn non_empty_array<'a>(path: &str, value: &'a Value) -> Result<&'a Vec<Value>> {
    match value {
        Value::Array(items) if !items.is_empty() => Ok(items),
        Value::Array(_) => Err(bad(path, "the list of candidates is empty")),
        other => Err(bad(
            path,
            format!("expected a list of candidates, found {}", describe(other)),
        )),
    }
}

fn names(path: &str, value: &Value) -> Result<Vec<String>> {
    let items = non_empty_array(path, value)?;
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(s) = item else {
            return Err(bad(
                &format!("{path}[{i}]"),
                format!(
                    "expected a candidate name (string), found {}",
                    describe(item)
                ),
            ));
        };
        if out.contains(s) {
            return Err(bad(
                &format!("{path}[{i}]"),
                format!("candidate {s:?} appears twice; names must be unique"),
            ));
        }
        out.push(s.clone());
    }
    Ok(out)
}

fn parse_input_choice(path: &str, value: &Value) -> Result<ChoiceKind> {
    let Value::Object(obj) = value else {
        return Err(bad(
            path,
            format!(
                "expected {{\"candidates\": [...], \"n_chosen\": k}}, found {}",
                describe(value)
            ),
        ));
    };
    if let Some(key) = obj.keys().find(|k| *k != "candidates" && *k != "n_chosen") {
        return Err(bad(
            path,
            format!("unknown key \"{key}\" (an input choice has \"candidates\" and \"n_chosen\")"),
        ));
    }
    let candidates = names(
        &format!("{path}.candidates"),
        obj.get("candidates")
            .ok_or_else(|| bad(path, "missing \"candidates\""))?,
    )?;
    let n_chosen = match obj.get("n_chosen") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(k) if (k as usize) <= candidates.len() => Some(k as usize),
            _ => {
                return Err(bad(
                    &format!("{path}.n_chosen"),
                    format!(
                        "{n} is not a count between 0 and the {} candidates",
                        candidates.len()
                    ),
                ))
            }
        },
        Some(other) => {
            return Err(bad(
                &format!("{path}.n_chosen"),
                format!(
                    "expected a whole number or null (any number), found {}",
                    describe(other)
                ),
            ))
        }
    };
    Ok(ChoiceKind::Input {
        candidates,
        n_chosen,
    })
}
