//! What `experiment list/show` print for an experiment whose manager is gone.

use anyhow::Result;
use archon_store::{runs::id_of, Store};
use std::path::Path;

/// For an interrupted experiment, what happened and the command that continues it.
pub fn interrupted_hint(dir: &Path, store: &Store) -> Result<()> {
    if store.is_interrupted()? {
        println!(
            "  its manager{} is gone (killed, or the machine went down); nothing reported is \
             lost: `archon experiment resume {}` continues it",
            store
                .manager_pid()?
                .map(|p| format!(" (pid {p})"))
                .unwrap_or_default(),
            id_of(dir)
        );
    }
    Ok(())
}
