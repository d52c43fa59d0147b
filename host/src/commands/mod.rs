//! One module per CLI command.

pub mod config;
pub mod demo;
pub mod experiment;
pub mod export;
mod interrupted;
pub mod plugins;
pub mod score;
pub mod search;
pub mod space;
mod space_bench;
pub mod train;
pub mod trial;
pub mod version;
pub mod view;
