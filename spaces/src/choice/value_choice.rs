//! `ValueChoice`: a number that parameterises a layer (kernel size, width, expansion
//! ratio). Layers that use one share weights across its values, as NNI's mixed
//! operations do: the largest value holds the weights and smaller ones slice them.

use super::{Builder, Setting};
use crate::error::{Result, SpacesError};
use crate::nn::Ctx;
use archon_plugin_api::{space::ChoiceKind, Selection};
use tch::Tensor;

/// A value chosen among `values`.
#[derive(Debug)]
pub struct ValueChoice {
    label: String,
    values: Vec<i64>,
    child: Option<i64>,
}

/// What a value choice is set to for one forward pass.
pub enum Value {
    /// One value.
    One(i64),
    /// A mixture: each value with its weight (a scalar tensor).
    Mixture(Vec<(i64, Tensor)>),
}

impl ValueChoice {
    /// Builds the choice `id` (decision `label`) among `values` (distinct).
    pub fn new(b: &Builder, id: &str, label: &str, values: &[i64]) -> Result<Self> {
        let kind = ChoiceKind::Value {
            values: values.iter().map(|v| serde_json::json!(v)).collect(),
        };
        let child = match b.register(id, label, kind)? {
            None => None,
            Some(Selection::One(i)) if i < values.len() => Some(values[i]),
            Some(other) => {
                return Err(SpacesError::Config(format!(
                    "value choice {label:?}: selection {other:?} is not one of {values:?}"
                )))
            }
        };
        Ok(ValueChoice {
            label: label.into(),
            values: values.to_vec(),
            child,
        })
    }

    /// The largest value (what the shared weights are sized for in a supernet; the
    /// chosen value in a child).
    pub fn max(&self) -> i64 {
        self.child
            .unwrap_or_else(|| self.values.iter().copied().max().unwrap_or(0))
    }

    /// The value(s) for this forward pass.
    pub fn current(&self, ctx: &Ctx) -> Value {
        if let Some(v) = self.child {
            return Value::One(v);
        }
        match ctx.settings().expect(&self.label) {
            Setting::Fixed(i) => Value::One(self.values[i[0]]),
            Setting::Weighted { indices, weights } => Value::Mixture(
                indices
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| (self.values[i], weights.get(k as i64)))
                    .collect(),
            ),
        }
    }
}
