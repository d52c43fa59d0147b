//! When a sub-parameter of an NNI nested choice is active ([`Condition`]), and how a
//! nested choice is recognised ([`is_nested`]); the flattening itself is in `nested`.

use serde_json::Value;

/// When a sub-parameter of a nested choice is active: its parent picked `candidate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    /// The parent's position in the space's choice points.
    pub parent: usize,
    /// The parent's candidate whose sub-space holds this choice point.
    pub candidate: usize,
}

/// Whether the `_value` of a `choice` is a list of nested sub-spaces (every item an
/// object with `_name`).
pub(crate) fn is_nested(values: &[Value]) -> bool {
    !values.is_empty()
        && values
            .iter()
            .all(|v| matches!(v, Value::Object(o) if o.contains_key("_name")))
}
