//! `archon version`: versions of the host and its tensor layer, and the plugin path.

use anyhow::Result;
use archon_core::plugins::SearchPath;
use archon_plugin_api::{LIBTORCH_VERSION, PLUGIN_API_VERSION, TCH_VERSION};
use std::process::ExitCode;

/// Prints versions and the plugin search path.
pub fn run(search_path: &SearchPath) -> Result<ExitCode> {
    println!("archon {}", env!("CARGO_PKG_VERSION"));
    println!("archon-plugin-api {PLUGIN_API_VERSION}");
    println!("tch {TCH_VERSION}, libtorch {LIBTORCH_VERSION}");
    println!(
        "cuda available: {}",
        archon_plugin_api::tch::Cuda::is_available()
    );
    println!("plugin search path:");
    for dir in search_path.dirs() {
        println!("  {} ({})", dir.path.display(), dir.origin);
    }
    Ok(ExitCode::SUCCESS)
}
