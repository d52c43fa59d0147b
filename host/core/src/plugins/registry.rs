//! All plugins on the search path: loaded, checked, and unique by name.

use super::{load, LoadError, LoadedPlugin, SearchPath};
use std::path::Path;

/// One library found on the search path and what became of it.
pub struct Found {
    /// Where it was found (for messages).
    pub origin: &'static str,
    /// The plugin, or why it could not be used.
    pub outcome: Result<LoadedPlugin, LoadError>,
}

/// Every library on the search path, loaded in search order.
pub struct Registry {
    found: Vec<Found>,
}

impl Registry {
    /// Loads every candidate library. A plugin whose name was already taken by one
    /// earlier in the search order is refused.
    pub fn discover(search_path: &SearchPath) -> Self {
        let mut found: Vec<Found> = Vec::new();
        for (path, dir) in search_path.candidates() {
            let outcome = load(&path).and_then(|plugin| {
                let earlier = found
                    .iter()
                    .filter_map(|f| f.outcome.as_ref().ok())
                    .find(|p| p.name == plugin.name);
                match earlier {
                    Some(first) => Err(LoadError {
                        path: path.clone(),
                        reason: format!(
                            "a second plugin named {:?} (the first is {})",
                            plugin.name,
                            first.path.display()
                        ),
                        fix: "remove one of the two, or rename one (export_plugin! name)".into(),
                    }),
                    None => Ok(plugin),
                }
            });
            if let Err(e) = &outcome {
                tracing::debug!(error = %e, "plugin refused");
            }
            found.push(Found {
                origin: dir.origin,
                outcome,
            });
        }
        Registry { found }
    }

    /// Everything found, loaded or not.
    pub fn found(&self) -> &[Found] {
        &self.found
    }

    /// The loaded plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&LoadedPlugin> {
        self.found
            .iter()
            .filter_map(|f| f.outcome.as_ref().ok())
            .find(|p| p.name == name)
    }
}

/// Resolves a user's plugin argument: a path (contains a path separator or names an
/// existing file) is loaded directly; anything else is looked up by name.
pub fn resolve(arg: &str, search_path: &SearchPath) -> anyhow::Result<LoadedPlugin> {
    let as_path = Path::new(arg);
    if arg.contains(std::path::MAIN_SEPARATOR) || as_path.is_file() {
        return Ok(load(as_path)?);
    }
    let registry = Registry::discover(search_path);
    if let Some(plugin) = registry.get(arg) {
        return Ok(plugin.clone());
    }
    let names: Vec<&str> = registry
        .found()
        .iter()
        .filter_map(|f| f.outcome.as_ref().ok().map(|p| p.name.as_str()))
        .collect();
    let refused: Vec<String> = registry
        .found()
        .iter()
        .filter_map(|f| f.outcome.as_ref().err().map(|e| format!("  {e}")))
        .collect();
    let mut msg = format!(
        "no plugin named {arg:?} (found: {}); see `archon plugins list`, or give a path to the library",
        if names.is_empty() { "none".into() } else { names.join(", ") }
    );
    if !refused.is_empty() {
        msg.push_str(&format!("\nrefused libraries:\n{}", refused.join("\n")));
    }
    anyhow::bail!(msg)
}
