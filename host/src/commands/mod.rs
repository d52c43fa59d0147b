//! One module per CLI command.

mod dataset;
pub mod demo;
pub mod experiment;
pub mod plugins;
pub mod space;
mod space_bench;
mod space_config;
pub mod train;
pub mod trial;
pub mod version;
