//! Trainers' and tuners' saved states as typed serde structs: written and read back
//! with errors that name the plugin, never with silent defaults.

use crate::bad_state;
use archon_plugin_api::{Architecture, PluginError, Result, SearchSpace, Selection};
use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A typed saved state as JSON.
pub fn save_state<T: Serialize>(state: &T) -> Result<Value> {
    serde_json::to_value(state).map_err(|e| PluginError::internal(format!("saving state: {e}")))
}

/// A typed saved state read back from JSON: every field must be there (no silent
/// defaults) and, with `#[serde(deny_unknown_fields)]` on `T`, no other. The error
/// names `plugin` and what is wrong.
pub fn load_state<T: DeserializeOwned>(plugin: &str, state: &Value) -> Result<T> {
    T::deserialize(state).map_err(|e| bad_state(plugin, e))
}

/// Checks that every architecture of a saved state fits `space` (a state saved for
/// another space is refused rather than proposing from it).
pub fn check_architectures_fit<'a>(
    space: &SearchSpace,
    mut architectures: impl Iterator<Item = &'a Vec<Selection>>,
) -> Result<()> {
    if architectures.all(|s| Architecture::new(space, s.clone()).is_ok()) {
        Ok(())
    } else {
        Err(PluginError::invalid_input(
            "saved state: its architectures do not fit the current search space",
        ))
    }
}

/// For `#[serde(deserialize_with = "archon_plugin_support::present")]` on an `Option`
/// field of a saved state: the key must be there (`null` for none), where serde would
/// read a missing key as `None`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}
