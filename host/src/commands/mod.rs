//! One module per CLI command.

pub mod demo;
pub mod plugins;
pub mod version;
