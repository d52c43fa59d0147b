//! The search-space type and its parser/validator.

use super::condition::{is_nested, Condition};
use super::numeric::{Numeric, NumericType};
use crate::error::{PluginError, Result};
use serde_json::{Map, Value};

/// One named decision of a search space.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoicePoint {
    name: String,
    kind: ChoiceKind,
    /// Its key in the object that holds it (the name, or the last part of a path).
    key: String,
    /// For a sub-parameter of a nested choice: when it is active.
    condition: Option<Condition>,
    /// Whether it is a nested choice (its candidates hold sub-spaces).
    nested: bool,
}

/// What a choice point chooses among.
#[derive(Debug, Clone, PartialEq)]
pub enum ChoiceKind {
    /// `layer_choice`: exactly one of the candidate operations.
    Layer {
        /// Candidate names as given (they may be empty or repeat: candidates are
        /// identified by index).
        candidates: Vec<String>,
    },
    /// `input_choice`: `n_chosen` of the candidate inputs (any number when `None`).
    Input {
        /// Candidate input names as given (identified by index).
        candidates: Vec<String>,
        /// How many to choose; `None` means any subset, including none.
        n_chosen: Option<usize>,
    },
    /// `choice`: exactly one of some plain JSON values (a width, a kernel size, ...).
    Value {
        /// The values as given (identified by index).
        values: Vec<Value>,
    },
    /// `randint [lower, upper)`: one of the integers `lower..upper`, categorical as in
    /// NNI (candidate `i` is `lower + i`).
    RandInt {
        /// The smallest value (NNI rounds the given bound up).
        lower: i64,
        /// One past the largest value.
        upper: i64,
    },
    /// A numeric type (`uniform`, `loguniform`, `normal`, their `q` forms, ...): a
    /// number, selected as [`Selection::Number`](super::Selection::Number).
    Numeric(Numeric),
}

impl ChoiceKind {
    /// The number of candidates (0 for a numeric parameter, which has none).
    pub fn num_candidates(&self) -> usize {
        match self {
            ChoiceKind::Layer { candidates } | ChoiceKind::Input { candidates, .. } => {
                candidates.len()
            }
            ChoiceKind::Value { values } => values.len(),
            ChoiceKind::RandInt { lower, upper } => (upper - lower) as usize,
            ChoiceKind::Numeric(_) => 0,
        }
    }

    /// Candidate `i` as it appears in an architecture's `_value` (`null` for a numeric
    /// parameter).
    pub fn candidate_value(&self, i: usize) -> Value {
        match self {
            ChoiceKind::Layer { candidates } | ChoiceKind::Input { candidates, .. } => {
                Value::String(candidates[i].clone())
            }
            ChoiceKind::Value { values } => values[i].clone(),
            ChoiceKind::RandInt { lower, .. } => Value::from(lower + i as i64),
            ChoiceKind::Numeric(_) => Value::Null,
        }
    }

    /// The NNI `_type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ChoiceKind::Layer { .. } => "layer_choice",
            ChoiceKind::Input { .. } => "input_choice",
            ChoiceKind::Value { .. } => "choice",
            ChoiceKind::RandInt { .. } => "randint",
            ChoiceKind::Numeric(n) => n.kind.name(),
        }
    }

    /// The space's JSON entry for this kind: `{"_type": ..., "_value": ...}`.
    pub fn to_json(&self) -> Value {
        let value = match self {
            ChoiceKind::Layer { candidates } => serde_json::json!(candidates),
            ChoiceKind::Input {
                candidates,
                n_chosen,
            } => serde_json::json!({"candidates": candidates, "n_chosen": n_chosen}),
            ChoiceKind::Value { values } => Value::Array(values.clone()),
            ChoiceKind::RandInt { lower, upper } => serde_json::json!([lower, upper]),
            ChoiceKind::Numeric(n) => serde_json::json!(n.values()),
        };
        serde_json::json!({"_type": self.type_name(), "_value": value})
    }
}

/// The NAS types every tuner reads: one candidate (or a set of inputs) by index.
pub const CATEGORICAL_TYPES: [&str; 4] = ["layer_choice", "input_choice", "choice", "randint"];

/// Every type archon reads: the categorical ones, NNI's numeric ones, and nested
/// choices (`nested_choice`: a `choice` of `{"_name": …}` sub-spaces).
pub const ALL_TYPES: [&str; 13] = [
    "layer_choice",
    "input_choice",
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
    "nested_choice",
];

impl ChoicePoint {
    /// The choice point's name: its key in the search space, or for a sub-parameter of
    /// a nested choice its path (`layer/1/kernel`: parent, candidate index, key).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its key in the object that holds it (the last part of a path).
    pub fn key(&self) -> &str {
        &self.key
    }
    /// When a sub-parameter of a nested choice is active (`None`: always).
    pub fn condition(&self) -> Option<Condition> {
        self.condition
    }
    /// Whether this is a nested choice (NNI's `choice` of `{"_name": …}` sub-spaces).
    pub fn is_nested(&self) -> bool {
        self.nested
    }
    /// The type a tuner must declare to read this choice point: its `_type`, or
    /// `nested_choice` for a nested choice.
    pub fn support_type(&self) -> &'static str {
        if self.nested {
            "nested_choice"
        } else {
            self.type_name()
        }
    }
    /// What it chooses among.
    pub fn kind(&self) -> &ChoiceKind {
        &self.kind
    }
    /// The number of candidates it chooses from (0 for a numeric parameter, which has
    /// no candidates).
    pub fn num_candidates(&self) -> usize {
        self.kind.num_candidates()
    }
    /// Candidate `i` as it appears in an architecture's `_value` (`null` for a numeric
    /// parameter).
    pub fn candidate_value(&self, i: usize) -> Value {
        self.kind.candidate_value(i)
    }
    /// Whether the choice picks a number rather than a candidate.
    pub fn is_numeric(&self) -> bool {
        matches!(self.kind, ChoiceKind::Numeric(_))
    }
    /// The NNI `_type` of this choice point.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

/// A validated search space: its choice points in the order of the JSON document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchSpace {
    choices: Vec<ChoicePoint>,
}

/// The `_type`s archon reads, for error messages.
const SUPPORTED_TYPES: &str = "\"layer_choice\", \"input_choice\", \"choice\", \"randint\", \"uniform\", \"quniform\", \"loguniform\", \"qloguniform\", \"normal\", \"qnormal\", \"lognormal\" or \"qlognormal\"";

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
        let mut choices = Vec::new();
        parse_space(&mut choices, None, map, None)?;
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

    /// Fails, naming the first choice point whose type is not in `supported`, if the
    /// space has one. `who` names the reader (e.g. "the tuner \"grid\"").
    pub fn require_types(&self, supported: &[&str], who: &str) -> Result<()> {
        match self
            .choices
            .iter()
            .find(|c| !supported.contains(&c.support_type()))
        {
            Some(c) => Err(PluginError::invalid_input(format!(
                "search space: \"{}\" is a {:?} parameter, which {who} does not support (it reads {}); choose another tuner (e.g. random, evolution or tpe) or another type",
                c.name,
                c.support_type(),
                supported.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// The space back in NNI's JSON format.
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = (0..self.choices.len())
            .filter(|&k| self.choices[k].condition.is_none())
            .map(|k| (self.choices[k].key.clone(), self.entry_json(k)))
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

/// Parses the choice points of `map` (the top level, or a nested candidate's object,
/// whose `_name` is skipped) into `out`, depth first; sub-parameters are named by path.
fn parse_space(
    out: &mut Vec<ChoicePoint>,
    prefix: Option<&str>,
    map: &Map<String, Value>,
    condition: Option<Condition>,
) -> Result<()> {
    for (key, entry) in map {
        if prefix.is_some() && key == "_name" {
            continue;
        }
        let name = match prefix {
            Some(p) => format!("{p}/{key}"),
            None => key.clone(),
        };
        let nested = match (entry.get("_type"), entry.get("_value")) {
            (Some(Value::String(t)), Some(Value::Array(values)))
                if t == "choice" && is_nested(values) =>
            {
                Some(values.clone())
            }
            _ => None,
        };
        let Some(candidates) = nested else {
            let mut point = parse_choice(&name, entry)?;
            point.key = key.clone();
            point.condition = condition;
            out.push(point);
            continue;
        };
        let path = format!("\"{name}\"._value");
        let names = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| match &c["_name"] {
                Value::String(n) => Ok(Value::String(n.clone())),
                other => Err(bad(
                    &format!("{path}[{i}]._name"),
                    format!("expected a name (string), found {}", describe(other)),
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        let index = out.len();
        out.push(ChoicePoint {
            name: name.clone(),
            kind: ChoiceKind::Value { values: names },
            key: key.clone(),
            condition,
            nested: true,
        });
        for (i, candidate) in candidates.iter().enumerate() {
            if let Value::Object(sub) = candidate {
                parse_space(
                    out,
                    Some(&format!("{name}/{i}")),
                    sub,
                    Some(Condition {
                        parent: index,
                        candidate: i,
                    }),
                )?;
            }
        }
    }
    Ok(())
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
        "choice" => ChoiceKind::Value {
            values: non_empty_array(&value_path, value)?.clone(),
        },
        "randint" => parse_randint(&value_path, value)?,
        other => match NumericType::from_name(other) {
            Some(kind) => {
                let numbers = numbers(&value_path, value)?;
                ChoiceKind::Numeric(
                    Numeric::new(kind, &numbers).map_err(|e| bad(&value_path, e))?,
                )
            }
            None => {
                return Err(bad(
                    &format!("{path}._type"),
                    format!("unknown type {other:?}; archon reads {SUPPORTED_TYPES} (NNI's search-space format)"),
                ))
            }
        },
    };
    Ok(ChoicePoint {
        name: name.to_string(),
        kind,
        key: name.to_string(),
        condition: None,
        nested: false,
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
        out.push(s.clone());
    }
    Ok(out)
}

fn numbers(path: &str, value: &Value) -> Result<Vec<f64>> {
    let Value::Array(items) = value else {
        return Err(bad(
            path,
            format!("expected a list of numbers, found {}", describe(value)),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64().ok_or_else(|| {
                bad(
                    &format!("{path}[{i}]"),
                    format!("expected a number, found {}", describe(v)),
                )
            })
        })
        .collect()
}

/// `randint [lower, upper)`, with NNI's rounding of both bounds up.
fn parse_randint(path: &str, value: &Value) -> Result<ChoiceKind> {
    let n = numbers(path, value)?;
    if n.len() != 2 {
        return Err(bad(
            path,
            format!("a randint takes [lower, upper], found {} numbers", n.len()),
        ));
    }
    let (lower, upper) = (n[0].ceil(), n[1].ceil());
    if !(lower.abs() < 1e15 && upper.abs() < 1e15) {
        return Err(bad(path, "the bounds must be integers below 10^15"));
    }
    if upper <= lower {
        return Err(bad(
            path,
            format!(
                "randint [{}, {}) holds no integer: upper must be above lower",
                n[0], n[1]
            ),
        ));
    }
    Ok(ChoiceKind::RandInt {
        lower: lower as i64,
        upper: upper as i64,
    })
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
