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

/// How the host initialises a cell parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Kaiming-uniform (for convolution and linear weights).
    Kaiming,
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
}

impl Init {
    fn as_str(self) -> &'static str {
        match self {
            Init::Kaiming => "kaiming",
            Init::Zeros => "zeros",
            Init::Ones => "ones",
        }
    }
}

/// One trainable parameter a cell needs. The host creates it (so the host's optimizer
/// trains it and its weight files hold it) and lends it to every `forward`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    /// A name, unique within the cell (letters, digits, `_`).
    pub name: String,
    /// The shape.
    pub shape: Vec<i64>,
    /// The initialisation.
    pub init: Init,
}

impl ParamSpec {
    /// A parameter spec.
    pub fn new(name: &str, shape: &[i64], init: Init) -> Self {
        ParamSpec {
            name: name.into(),
            shape: shape.to_vec(),
            init,
        }
    }
}

/// A cell as its author writes it: a block of a cell-based network whose weights the
/// host owns.
pub trait Cell: Send + 'static {
    /// Creates the cell from its options (the host passes `channels`, `reduction` and
    /// `nodes` when it drops the cell into a skeleton).
    fn new(options: &Options) -> Result<Self>
    where
        Self: Sized;

    /// A JSON description (name, inputs, anything useful to show).
    fn describe(&self) -> Value;

    /// The trainable parameters the host must create for this cell.
    fn parameters(&self) -> Vec<ParamSpec> {
        Vec::new()
    }

    /// Computes the cell's output from its inputs and its parameters (in the order of
    /// [`parameters`](Self::parameters)). Gradients flow back to both.
    fn forward(&mut self, inputs: &[Tensor], parameters: &[Tensor]) -> Result<Tensor>;
}

struct CellAdapter<C> {
    cell: Guarded<C>,
}

impl<C: Cell> CellAbi for CellAdapter<C> {
    fn describe(&self) -> RString {
        self.cell
            .call_ref("describe", |c| {
                let mut description = c.describe();
                let params: Vec<Value> = c
                    .parameters()
                    .iter()
                    .map(|p| serde_json::json!({"name": p.name, "shape": p.shape, "init": p.init.as_str()}))
                    .collect();
                match &mut description {
                    Value::Object(map) => {
                        map.insert("parameters".into(), Value::Array(params));
                    }
                    other => *other = serde_json::json!({"description": other.clone(), "parameters": params}),
                }
                Ok(description)
            })
            .unwrap_or_else(|e| serde_json::json!({"error": e.to_string()}))
            .to_string()
            .into()
    }

    fn forward(
        &mut self,
        inputs: RSlice<'_, TensorRef<'_>>,
        parameters: RSlice<'_, TensorRef<'_>>,
    ) -> RResult<OwnedTensor, PluginError> {
        let inputs: Vec<Tensor> = inputs.iter().map(TensorRef::to_tensor).collect();
        let parameters: Vec<Tensor> = parameters.iter().map(TensorRef::to_tensor).collect();
        self.cell
            .call("forward", |c| c.forward(&inputs, &parameters))
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
        let description: Value =
            serde_json::from_str(self.inner.describe().as_str()).map_err(|e| {
                PluginError::internal(format!("the cell's description is not JSON: {e}"))
            })?;
        match description.get("error") {
            Some(e) => Err(PluginError::internal(format!(
                "the cell could not describe itself: {e}"
            ))),
            None => Ok(description),
        }
    }

    /// The parameters the cell needs, from its description.
    pub fn parameters(&self) -> Result<Vec<ParamSpec>> {
        let description = self.describe()?;
        let bad = |why: String| {
            PluginError::internal(format!("the cell's parameter list is malformed: {why}"))
        };
        let list = description
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        list.iter()
            .map(|p| {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("{p}: no name")))?;
                let shape = p
                    .get("shape")
                    .and_then(Value::as_array)
                    .and_then(|s| {
                        s.iter()
                            .map(|d| d.as_i64().filter(|&d| d > 0))
                            .collect::<Option<Vec<i64>>>()
                    })
                    .ok_or_else(|| bad(format!("{p}: shape must be a list of positive sizes")))?;
                let init = match p.get("init").and_then(Value::as_str) {
                    Some("kaiming") => Init::Kaiming,
                    Some("zeros") => Init::Zeros,
                    Some("ones") => Init::Ones,
                    other => return Err(bad(format!("{p}: unknown init {other:?}"))),
                };
                Ok(ParamSpec {
                    name: name.into(),
                    shape,
                    init,
                })
            })
            .collect()
    }

    /// Runs the cell on `inputs` with `parameters` (both lent for the call); the
    /// result is the caller's.
    pub fn forward(&mut self, inputs: &[&Tensor], parameters: &[&Tensor]) -> Result<Tensor> {
        let refs: Vec<TensorRef<'_>> = inputs.iter().map(|t| TensorRef::new(t)).collect();
        let params: Vec<TensorRef<'_>> = parameters.iter().map(|t| TensorRef::new(t)).collect();
        self.inner
            .forward(RSlice::from_slice(&refs), RSlice::from_slice(&params))
            .into_result()
            .map(OwnedTensor::into_tensor)
    }
}
