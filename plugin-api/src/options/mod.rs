//! Plugin options: the JSON object an experiment config passes to a plugin, with
//! typed getters whose errors name the option, and typed option structs
//! ([`plugin_options!`](crate::plugin_options)) that describe themselves.

mod optimize_mode;
mod schema;
mod value;

pub use optimize_mode::OptimizeMode;
pub use schema::{OptionDoc, OptionSet};
pub use value::OptionValue;

use crate::error::{PluginError, Result};
use serde_json::{Map, Value};

/// A plugin's options (a JSON object). Getters fail with an error naming the option.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    map: Map<String, Value>,
}

impl Options {
    /// Parses options from JSON text; empty text means no options.
    pub fn from_json_str(text: &str) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(Options::default());
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Options { map }),
            Ok(other) => Err(PluginError::invalid_input(format!(
                "options: expected a JSON object such as {{\"seed\": 1}}, found {other}"
            ))),
            Err(e) => Err(PluginError::invalid_input(format!(
                "options: not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))),
        }
    }

    /// The raw JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Option `key`, unless it is absent or `null`.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Fails if any option is not in `known`, naming it and listing the known ones.
    pub fn deny_unknown(&self, plugin: &str, known: &[&str]) -> Result<()> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(key) => Err(PluginError::invalid_input(format!(
                "options: {plugin} has no option \"{key}\" (known: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))),
            None => Ok(()),
        }
    }

    /// Option `key` read by `read`; `expected` says what it must be when `read` fails.
    fn typed<T>(
        &self,
        key: &str,
        expected: &str,
        read: impl Fn(&Value) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => read(v).map(Some).ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "options: \"{key}\" must be {expected}, found {v}"
                ))
            }),
        }
    }

    /// An unsigned whole-number option.
    pub fn u64(&self, key: &str) -> Result<Option<u64>> {
        self.typed(key, "a whole number ≥ 0", Value::as_u64)
    }

    /// A number option.
    pub fn f64(&self, key: &str) -> Result<Option<f64>> {
        self.typed(key, "a number", Value::as_f64)
    }

    /// A boolean option.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.typed(key, "true or false", Value::as_bool)
    }

    /// A string option restricted to `allowed` values.
    pub fn one_of(&self, key: &str, allowed: &[&str]) -> Result<Option<String>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
            Some(v) => Err(PluginError::invalid_input(format!(
                "options: \"{key}\" must be one of {}, found {v}",
                allowed
                    .iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_getters_name_the_option() {
        let o = Options::from_json_str(r#"{"n": 3, "x": "y", "b": 1, "m": "fast", "z": null}"#)
            .unwrap();
        assert_eq!(o.u64("n").unwrap(), Some(3));
        assert_eq!(o.u64("z").unwrap(), None);
        assert_eq!(o.u64("absent").unwrap(), None);
        assert_eq!(o.f64("n").unwrap(), Some(3.0));
        assert_eq!(
            o.u64("x").unwrap_err().message(),
            "options: \"x\" must be a whole number ≥ 0, found \"y\""
        );
        assert_eq!(
            o.bool("b").unwrap_err().message(),
            "options: \"b\" must be true or false, found 1"
        );
        assert_eq!(
            o.one_of("m", &["fast", "slow"]).unwrap(),
            Some("fast".into())
        );
        assert_eq!(
            o.one_of("x", &["fast", "slow"]).unwrap_err().message(),
            "options: \"x\" must be one of \"fast\", \"slow\", found \"y\""
        );
        assert!(o
            .deny_unknown("t", &["n"])
            .unwrap_err()
            .message()
            .starts_with("options: t has no option \"x\""));
        assert!(Options::from_json_str("[1]").is_err());
        assert!(Options::from_json_str("  ").unwrap().as_map().is_empty());
    }
}
