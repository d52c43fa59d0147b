//! The research benchmarks: ground-truth tables (every architecture of a space trained
//! from scratch), search quality against them, one-shot speed, tuners compared, and the
//! final networks against the baselines users hold. They depend on the product crates
//! (search, experiment, store, core); nothing in the product depends on them.

pub mod args;
pub mod commands;
pub mod ground_truth;
pub mod quality;

pub use args::BenchCommand;
pub use commands::run;
