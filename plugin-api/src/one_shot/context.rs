//! The supernet as a trainer sees it: a typed wrapper over the host's ABI object.

use super::{
    info::{CostTable, NetworkSpec, Report, SearchInfo},
    roles::CandidateRole,
};
use crate::{
    abi::SupernetRef,
    error::{PluginError, Result},
    tensor::{OwnedTensor, TensorRef},
};
use abi_stable::std_types::{ROption, RSlice};
use serde_json::Value;
use tch::Tensor;

/// A network handle: [`SUPERNET`] or one returned by
/// [`SupernetContext::build_network`].
pub type NetId = u32;

/// The supernet being searched.
pub const SUPERNET: NetId = 0;

/// Which split a batch comes from. Crosses the ABI as one byte.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, abi_stable::StableAbi)]
pub enum Split {
    /// The weight-training split.
    Train = 0,
    /// The architecture-validation split.
    Valid = 1,
}

/// How one choice is driven.
#[derive(Debug)]
pub enum Setting {
    /// Single path: only these candidates run.
    Fixed(Vec<usize>),
    /// A differentiable mixture `Σ weights[k] · candidate[indices[k]]`; candidates not
    /// listed do not run. `weights` is 1-D with `indices.len()` entries; gradients flow
    /// back to it. A backward pass frees the graph that made it: set it every step.
    Weighted {
        /// The candidates taking part.
        indices: Vec<usize>,
        /// Their weights, shape `[indices.len()]`.
        weights: Tensor,
    },
}

impl Setting {
    /// The candidates this setting activates.
    pub fn indices(&self) -> &[usize] {
        match self {
            Setting::Fixed(i) | Setting::Weighted { indices: i, .. } => i,
        }
    }
}

/// Which gradients [`SupernetContext::forward_backward`] computes. Crosses the ABI as
/// two flags.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, abi_stable::StableAbi)]
pub struct Grads {
    /// Accumulate into the network's weights' `grad` (as `loss.backward()` would).
    pub weights: bool,
    /// Accumulate into whatever the `Weighted` settings' weights were computed from
    /// (the architecture parameters α, through the softmax that made them).
    pub mixture: bool,
}

impl Grads {
    /// The weights' gradients only (a weight step).
    pub const WEIGHTS: Grads = Grads {
        weights: true,
        mixture: false,
    };
    /// The mixture's gradients only (a first-order architecture step).
    pub const MIXTURE: Grads = Grads {
        weights: false,
        mixture: true,
    };
}

/// What [`SupernetContext::forward_backward`] returns.
#[derive(Debug)]
pub struct StepOutput {
    /// The mean cross-entropy over the batch.
    pub loss: f64,
    /// The logits `[N, classes]`, detached (for accuracy).
    pub logits: Tensor,
}

/// A batch of examples, the trainer's to keep.
#[derive(Debug)]
pub struct Batch {
    /// Inputs (`[N, C, H, W]` images or `[N, L]` token ids), on the search device.
    pub inputs: Tensor,
    /// Class labels `[N]` (int64), on the search device.
    pub labels: Tensor,
}

/// The host's supernet, lent to a trainer for one call.
pub struct SupernetContext<'a> {
    inner: SupernetRef<'a>,
    info: Option<SearchInfo>,
}

fn to_u32(i: usize) -> Result<u32> {
    u32::try_from(i).map_err(|_| PluginError::invalid_input(format!("index {i} is too large")))
}

impl<'a> SupernetContext<'a> {
    /// Wraps the ABI object (done by plugin-api's adapter).
    pub(crate) fn new(inner: SupernetRef<'a>) -> Self {
        SupernetContext { inner, info: None }
    }

    /// What is being searched: choices, budget, device.
    pub fn info(&mut self) -> Result<&SearchInfo> {
        if self.info.is_none() {
            let text = self.inner.info();
            let info: SearchInfo = serde_json::from_str(text.as_str()).map_err(|e| {
                PluginError::internal(format!("the host's search info is malformed: {e}"))
            })?;
            self.info = Some(info);
        }
        Ok(self.info.as_ref().expect("set above"))
    }

    /// Sets choice `label` of network `net`.
    pub fn set(&mut self, net: NetId, label: &str, setting: Setting) -> Result<()> {
        let (indices, weights) = match &setting {
            Setting::Fixed(i) => (i, None),
            Setting::Weighted { indices, weights } => (indices, Some(weights)),
        };
        let indices = indices
            .iter()
            .map(|&i| to_u32(i))
            .collect::<Result<Vec<u32>>>()?;
        let weights = match weights {
            Some(w) => ROption::RSome(TensorRef::new(w)),
            None => ROption::RNone,
        };
        self.inner
            .set(net, label.into(), RSlice::from_slice(&indices), weights)
            .into_result()
    }

    /// The next batch of `split` (each split is reshuffled when it runs out).
    pub fn next_batch(&mut self, split: Split) -> Result<Batch> {
        let b = self.inner.next_batch(split).into_result()?;
        Ok(Batch {
            inputs: b.inputs.into_tensor(),
            labels: b.labels.into_tensor(),
        })
    }

    /// Logits of `net` for `inputs`, in training mode with autograd.
    pub fn forward(&mut self, net: NetId, inputs: &Tensor) -> Result<Tensor> {
        self.inner
            .forward(net, TensorRef::new(inputs))
            .into_result()
            .map(OwnedTensor::into_tensor)
    }

    /// One training pass of `net` over `batch`: forward, the mean cross-entropy
    /// against the labels, and backward into the gradients `grads` names (accumulated,
    /// as `backward()` does: zero them first). On CPU the host may split the batch
    /// across replicas that share the weights, each on its own thread (batch norm
    /// then sees each part's statistics, as data-parallel training does), which is
    /// faster than [`forward`](Self::forward) followed by a backward pass on this
    /// thread; use that pair where a step needs the graph itself (second-order
    /// gradients, gradients of something other than the cross-entropy).
    pub fn forward_backward(
        &mut self,
        net: NetId,
        batch: &Batch,
        grads: Grads,
    ) -> Result<StepOutput> {
        let out = self
            .inner
            .forward_backward(
                net,
                TensorRef::new(&batch.inputs),
                TensorRef::new(&batch.labels),
                grads,
            )
            .into_result()?;
        Ok(StepOutput {
            loss: out.loss,
            logits: out.logits.into_tensor(),
        })
    }

    /// `net`'s weight tensors: handles sharing storage and gradients with the host's,
    /// so in-place updates (under `tch::no_grad`) change the network.
    pub fn weights(&mut self, net: NetId) -> Result<Vec<Tensor>> {
        let list = self.inner.weights(net).into_result()?;
        Ok(list.into_iter().map(OwnedTensor::into_tensor).collect())
    }

    /// Zeroes the gradients of `net`'s weights.
    pub fn zero_grad(&mut self, net: NetId) -> Result<()> {
        self.inner.zero_grad(net).into_result()
    }

    /// One step of `net`'s weight optimizer on the gradients accumulated so far
    /// (clipped as configured); gradients are zeroed after.
    pub fn weight_step(&mut self, net: NetId) -> Result<()> {
        self.inner.weight_step(net).into_result()
    }

    /// The current learning rate of `net`'s weight optimizer (DARTS's ξ).
    pub fn weight_lr(&self, net: NetId) -> f64 {
        self.inner.weight_lr(net)
    }

    /// Builds another network: a supernet of the same space or a child.
    pub fn build_network(&mut self, spec: &NetworkSpec) -> Result<NetId> {
        let text = serde_json::to_string(spec)
            .map_err(|e| PluginError::internal(format!("network spec: {e}")))?;
        self.inner.build_network(text.as_str().into()).into_result()
    }

    /// Validation accuracy of `architecture` run on `net` with single-path settings,
    /// after recalibrating batch norm on `recalibrate` training batches, over `batches`
    /// validation batches (0: all).
    pub fn evaluate(
        &mut self,
        net: NetId,
        architecture: &Value,
        recalibrate: usize,
        batches: usize,
    ) -> Result<f64> {
        self.inner
            .evaluate(
                net,
                architecture.to_string().as_str().into(),
                to_u32(recalibrate)?,
                to_u32(batches)?,
            )
            .into_result()
    }

    /// Per-candidate params, FLOPs and measured latency of `net`'s choices.
    pub fn costs(&mut self, net: NetId) -> Result<CostTable> {
        let text = self.inner.costs(net).into_result()?;
        serde_json::from_str(text.as_str())
            .map_err(|e| PluginError::internal(format!("the host's cost table is malformed: {e}")))
    }

    /// Rebuilds `net` with changed space options, fresh weights and optimizer.
    pub fn rebuild(&mut self, net: NetId, options: &Value) -> Result<()> {
        self.inner
            .rebuild(net, options.to_string().as_str().into())
            .into_result()
    }

    /// Dropout with probability `p` after every candidate of `role` (training passes
    /// only; 0 turns it off). P-DARTS uses it on [`CandidateRole::Identity`].
    pub fn set_dropout(&mut self, net: NetId, role: CandidateRole, p: f64) -> Result<()> {
        self.inner.set_dropout(net, role, p).into_result()
    }

    /// Records progress (shown by the host, stored in the experiment).
    pub fn report(&mut self, report: &Report) -> Result<()> {
        let text = serde_json::to_string(report)
            .map_err(|e| PluginError::internal(format!("report: {e}")))?;
        self.inner.report(text.as_str().into()).into_result()
    }
}
