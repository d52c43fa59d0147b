//! # archon-spaces
//!
//! Search-space building blocks, the hub of published spaces, and the datasets their
//! children train on. This release has the data layer: real Fashion-MNIST from
//! Debian's `dataset-fashion-mnist` package, read from its IDX files into tensors.

pub mod data;
mod error;

pub use error::{Result, SpacesError};
