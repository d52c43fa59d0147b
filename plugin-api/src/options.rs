//! Plugin options: the JSON object an experiment config passes to a plugin, with
//! typed getters whose errors name the option.

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

    /// An unsigned whole-number option.
    pub fn u64(&self, key: &str) -> Result<Option<u64>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "options: \"{key}\" must be a whole number ≥ 0, found {v}"
                ))
            }),
        }
    }

    /// A number option.
    pub fn f64(&self, key: &str) -> Result<Option<f64>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "options: \"{key}\" must be a number, found {v}"
                ))
            }),
        }
    }

    /// A boolean option.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "options: \"{key}\" must be true or false, found {v}"
                ))
            }),
        }
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
