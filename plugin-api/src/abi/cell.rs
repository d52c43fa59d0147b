//! The cell (a search-space building block from a plugin) as a stable trait object.
//!
//! This is the first tensor-carrying interface of the ABI: tensors are lent in with
//! [`TensorRef`] and come back owned in an [`OwnedTensor`]. The host owns a cell's
//! weights (it creates them from the shapes in `describe()`, trains and saves them)
//! and lends them to every `forward`. It grows (after its last prefix method) as the
//! space hub needs more of a cell.

// abi_stable 0.11's `#[sabi_trait]` expands to impls inside a const block.
#![allow(non_local_definitions)]

use crate::{
    error::PluginError,
    tensor::{OwnedTensor, TensorRef},
};
use abi_stable::{
    sabi_trait,
    std_types::{RBox, RResult, RSlice, RString},
};

/// The cell as the host calls it. Implemented by plugin-api's adapter around an
/// author's [`Cell`](crate::Cell); every call is guarded against panics.
#[sabi_trait]
pub trait CellAbi: Send {
    /// A JSON description of the cell: `{"name": ..., "parameters": [{"name": ...,
    /// "shape": [...], "init": "kaiming"|"zeros"|"ones"}], ...}`.
    fn describe(&self) -> RString;

    /// Applies the cell to the lent inputs with the lent parameters (in the order of
    /// `describe()`); returns a new tensor owned by the caller.
    #[sabi(last_prefix_field)]
    fn forward(
        &mut self,
        inputs: RSlice<'_, TensorRef<'_>>,
        parameters: RSlice<'_, TensorRef<'_>>,
    ) -> RResult<OwnedTensor, PluginError>;
}

/// An owned cell trait object (freed by the plugin's own drop glue).
pub type CellBox = CellAbi_TO<'static, RBox<()>>;
