//! # archon-plugin-api
//!
//! Everything a third party needs to write an archon plugin — a search algorithm
//! compiled as its own library and loaded by the `archon` host at run time.
//!
//! - Write a plain Rust type implementing [`Tuner`] (classic, multi-trial NAS),
//!   [`OneShotTrainer`] (one-shot NAS over the host's supernet, see [`one_shot`]) or
//!   [`Cell`] (a search-space building block), and export it with [`export_plugin!`].
//!   The macro generates the stable ABI (abi_stable) and guards every entry point so a
//!   panic reaches the host as an error.
//! - Search spaces and architectures use NNI's classic-NAS JSON format: see [`space`].
//! - Tensors cross the boundary without copies through [`OwnedTensor`] (ownership
//!   moves) and [`TensorRef`] (a loan for one call); no plugin code needs `unsafe`.
//! - Options: declare a plugin's options once with [`plugin_options!`] (keys, types,
//!   defaults, one-line docs); name the struct in [`export_plugin!`] and
//!   `archon plugins info` lists them.
//! - [`conformance`] holds the checks `archon plugins check` runs; run them from your
//!   own tests with [`TunerClient::in_process`].
//!
//! A plugin must be built against the same tch and libtorch as the host
//! ([`TCH_VERSION`], [`LIBTORCH_VERSION`]) and a semver-compatible plugin-api.
#![deny(missing_docs)]

#[doc(hidden)]
pub mod abi;
mod cell;
pub mod conformance;
mod error;
mod export;
mod guard;
pub mod one_shot;
mod options;
#[doc(hidden)]
pub mod private;
pub mod space;
mod tensor;
mod tuner;
mod version;

#[doc(hidden)]
pub use private as __private;

pub use abi::PluginKind;
pub use cell::{Cell, CellClient, Init, ParamSpec};
pub use error::{ErrorKind, PluginError, Result};
pub use one_shot::{OneShotClient, OneShotTrainer};
pub use options::{OptimizeMode, OptionDoc, OptionSet, OptionValue, Options};
pub use space::{Architecture, SearchSpace, Selection};
pub use tensor::{OwnedTensor, TensorRef};
pub use tuner::{Metric, ParameterId, Tuner, TunerClient};
pub use version::{
    api_compatible, check_compatibility, Incompatibility, LIBTORCH_VERSION, PLUGIN_API_VERSION,
    TCH_VERSION,
};

/// serde_json, re-exported for the JSON values in the author traits.
pub use serde_json;

/// tch, re-exported so that a plugin uses exactly the host's version.
pub use tch;
