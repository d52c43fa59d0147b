//! One module per CLI command.

pub mod bench;
mod bench_final;
mod bench_tuners;
pub mod config;
pub mod demo;
pub mod experiment;
pub mod export;
pub mod ground_truth;
pub mod plugins;
pub mod quality;
pub mod rank;
mod runs;
pub mod score;
pub mod search;
pub mod space;
mod space_bench;
pub(crate) mod space_config;
pub mod train;
pub mod trial;
pub mod version;
pub mod view;
