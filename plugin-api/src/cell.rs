//! Cells: the author-facing trait for a search-space building block that computes on
//! tensors, its adapter behind the ABI, and the host-side client.

use crate::{
    abi::{CellAbi, CellAbi_TO, CellBox},
    error::{PluginError, Result},
    guard::{catch_panic, Guarded},
    options::Options,
    tensor::{OwnedTensor, TensorRef},
};
use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RSlice, RStr, RString},
};
use serde_json::Value;
use tch::Tensor;

/// A cell as its author writes it.
pub trait Cell: Send + 'static {
    /// Creates the cell from its options.
    fn new(options: &Options) -> Result<Self>
    where
        Self: Sized;

    /// A JSON description: name, number of inputs, candidate operations.
    fn describe(&self) -> Value;

    /// Computes the cell's output from its inputs. Gradients flow back to the inputs.
    fn forward(&mut self, inputs: &[Tensor]) -> Result<Tensor>;
}

struct CellAdapter<C> {
    cell: Guarded<C>,
}

impl<C: Cell> CellAbi for CellAdapter<C> {
    fn describe(&self) -> RString {
        self.cell
            .call_ref("describe", |c| Ok(c.describe()))
            .unwrap_or_else(|e| serde_json::json!({"error": e.to_string()}))
            .to_string()
            .into()
    }

    fn forward(&mut self, inputs: RSlice<'_, TensorRef<'_>>) -> RResult<OwnedTensor, PluginError> {
        let inputs: Vec<Tensor> = inputs.iter().map(TensorRef::to_tensor).collect();
        self.cell
            .call("forward", |c| c.forward(&inputs))
            .map(OwnedTensor::new)
            .into()
    }
}

/// What a plugin's `new_cell` entry point runs for a cell type `C`.
#[doc(hidden)]
pub extern "C" fn new_cell<C: Cell>(options: RStr<'_>) -> RResult<CellBox, PluginError> {
    catch_panic("Cell::new", || {
        let options = Options::from_json_str(options.as_str())?;
        let cell = C::new(&options)?;
        Ok(CellAbi_TO::from_value(
            CellAdapter {
                cell: Guarded::new(cell),
            },
            TD_Opaque,
        ))
    })
    .into()
}

/// A cell as the host drives it.
pub struct CellClient {
    inner: CellBox,
}

impl CellClient {
    /// Wraps a cell object returned by a plugin's `new_cell`.
    pub fn from_box(inner: CellBox) -> Self {
        CellClient { inner }
    }

    /// Creates an author's cell in this process, through the plugin adapter.
    pub fn in_process<C: Cell>(options: &str) -> Result<Self> {
        new_cell::<C>(options.into())
            .into_result()
            .map(Self::from_box)
    }

    /// The cell's description.
    pub fn describe(&self) -> Result<Value> {
        serde_json::from_str(self.inner.describe().as_str())
            .map_err(|e| PluginError::internal(format!("the cell's description is not JSON: {e}")))
    }

    /// Runs the cell on `inputs` (lent for the call); the result is the caller's.
    pub fn forward(&mut self, inputs: &[&Tensor]) -> Result<Tensor> {
        let refs: Vec<TensorRef<'_>> = inputs.iter().map(|t| TensorRef::new(t)).collect();
        self.inner
            .forward(RSlice::from_slice(&refs))
            .into_result()
            .map(OwnedTensor::into_tensor)
    }
}
