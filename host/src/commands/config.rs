//! `archon config reference`: the generated reference of every config key.

use anyhow::Result;
use std::process::ExitCode;

/// Prints the reference (Markdown).
pub fn reference() -> Result<ExitCode> {
    print!("{}", crate::config_reference::markdown());
    Ok(ExitCode::SUCCESS)
}
