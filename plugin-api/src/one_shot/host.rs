//! The host's side of the supernet context: a Rust trait the host implements, and the
//! adapter that lends it across the ABI with every call guarded against panics.

use super::{
    context::{Batch, Grads, NetId, Setting, Split, StepOutput},
    info::{CostTable, NetworkSpec, Report, SearchInfo},
    roles::CandidateRole,
};
use crate::{
    abi::{BatchAbi, StepAbi, SupernetAbi, SupernetAbi_TO, SupernetRef},
    error::{PluginError, Result},
    guard::catch_panic,
    tensor::{OwnedTensor, TensorRef},
};
use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RSlice, RStr, RString, RVec},
};
use serde_json::Value;
use tch::Tensor;

/// What the host implements to lend its supernet to a trainer. Each method mirrors one
/// of [`SupernetContext`](super::SupernetContext)'s.
pub trait SupernetHost {
    /// What is being searched.
    fn info(&self) -> SearchInfo;
    /// Sets a choice of a network.
    fn set(&mut self, net: NetId, label: &str, setting: Setting) -> Result<()>;
    /// The next batch of a split.
    fn next_batch(&mut self, split: Split) -> Result<Batch>;
    /// Training-mode logits.
    fn forward(&mut self, net: NetId, inputs: &Tensor) -> Result<Tensor>;
    /// Forward, mean cross-entropy and backward into the gradients `grads` names.
    fn forward_backward(
        &mut self,
        net: NetId,
        inputs: &Tensor,
        labels: &Tensor,
        grads: Grads,
    ) -> Result<StepOutput>;
    /// Handles to the weights.
    fn weights(&mut self, net: NetId) -> Result<Vec<Tensor>>;
    /// Zeroes weight gradients.
    fn zero_grad(&mut self, net: NetId) -> Result<()>;
    /// One optimizer step, then zeroed gradients.
    fn weight_step(&mut self, net: NetId) -> Result<()>;
    /// The current weight learning rate.
    fn weight_lr(&self, net: NetId) -> f64;
    /// Builds another network.
    fn build_network(&mut self, spec: &NetworkSpec) -> Result<NetId>;
    /// Accuracy of an architecture after BN recalibration.
    fn evaluate(
        &mut self,
        net: NetId,
        architecture: &Value,
        recalibrate: usize,
        batches: usize,
    ) -> Result<f64>;
    /// Per-candidate costs.
    fn costs(&mut self, net: NetId) -> Result<CostTable>;
    /// Rebuilds with changed options.
    fn rebuild(&mut self, net: NetId, options: &Value) -> Result<()>;
    /// Dropout after every candidate of a role.
    fn set_dropout(&mut self, net: NetId, role: CandidateRole, p: f64) -> Result<()>;
    /// Records progress.
    fn report(&mut self, report: Report) -> Result<()>;
}

/// Passes each gradient `g` on to whatever made its tensor `t` — for a leaf, adds `g`
/// to its `grad` — with one backward pass through `Σ t · g` (undefined gradients
/// skipped; nothing when none is left). How a gradient computed elsewhere (another
/// thread, `run_backward`) reaches the leaves behind a tensor.
pub fn pass_on_gradients<'a>(pairs: impl IntoIterator<Item = (&'a Tensor, &'a Tensor)>) {
    let surrogate = pairs
        .into_iter()
        .filter(|(_, g)| g.defined())
        .map(|(t, g)| (t * g.detach()).sum(tch::Kind::Float))
        .reduce(|a, b| a + b);
    if let Some(surrogate) = surrogate {
        surrogate.backward();
    }
}

/// A host's one-thread [`SupernetHost::forward_backward`] from the pass's `logits`:
/// the mean cross-entropy against `labels`, backpropagated into `weights` (when
/// `grads.weights`) and into the graph behind the mixture weights `mixture` (when
/// `grads.mixture`), accumulating into `grad` as `backward()` does and leaving every
/// other gradient alone.
pub fn one_pass_step(
    logits: &Tensor,
    labels: &Tensor,
    weights: &[Tensor],
    mixture: &[Tensor],
    grads: Grads,
) -> StepOutput {
    let loss = logits.cross_entropy_for_logits(labels);
    let mut targets: Vec<&Tensor> = Vec::new();
    if grads.weights {
        targets.extend(weights.iter().filter(|t| t.requires_grad()));
    }
    if grads.mixture {
        targets.extend(mixture.iter().filter(|t| t.requires_grad()));
    }
    if !targets.is_empty() {
        let found = Tensor::run_backward(&[&loss], &targets, false, false);
        pass_on_gradients(targets.iter().copied().zip(&found));
    }
    StepOutput {
        loss: loss.double_value(&[]),
        logits: logits.detach(),
    }
}

struct HostAdapter<'h, H: ?Sized> {
    host: &'h mut H,
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: RStr<'_>) -> Result<T> {
    serde_json::from_str(text.as_str())
        .map_err(|e| PluginError::invalid_input(format!("{what}: malformed JSON: {e}")))
}

impl<H: SupernetHost + ?Sized> SupernetAbi for HostAdapter<'_, H> {
    fn info(&self) -> RString {
        catch_panic("info", || {
            serde_json::to_string(&self.host.info())
                .map_err(|e| PluginError::internal(e.to_string()))
        })
        .unwrap_or_default()
        .into()
    }

    fn set(
        &mut self,
        net: u32,
        label: RStr<'_>,
        indices: RSlice<'_, u32>,
        weights: ROption<TensorRef<'_>>,
    ) -> RResult<(), PluginError> {
        catch_panic("set", || {
            let indices: Vec<usize> = indices.iter().map(|&i| i as usize).collect();
            let setting = match weights {
                ROption::RSome(w) => Setting::Weighted {
                    indices,
                    weights: w.to_tensor(),
                },
                ROption::RNone => Setting::Fixed(indices),
            };
            self.host.set(net, label.as_str(), setting)
        })
        .into()
    }

    fn next_batch(&mut self, split: Split) -> RResult<BatchAbi, PluginError> {
        catch_panic("next_batch", || {
            let b = self.host.next_batch(split)?;
            Ok(BatchAbi {
                inputs: OwnedTensor::new(b.inputs),
                labels: OwnedTensor::new(b.labels),
            })
        })
        .into()
    }

    fn forward(&mut self, net: u32, inputs: TensorRef<'_>) -> RResult<OwnedTensor, PluginError> {
        catch_panic("forward", || {
            self.host
                .forward(net, &inputs.to_tensor())
                .map(OwnedTensor::new)
        })
        .into()
    }

    fn forward_backward(
        &mut self,
        net: u32,
        inputs: TensorRef<'_>,
        labels: TensorRef<'_>,
        grads: Grads,
    ) -> RResult<StepAbi, PluginError> {
        catch_panic("forward_backward", || {
            let out =
                self.host
                    .forward_backward(net, &inputs.to_tensor(), &labels.to_tensor(), grads)?;
            Ok(StepAbi {
                loss: out.loss,
                logits: OwnedTensor::new(out.logits),
            })
        })
        .into()
    }

    fn weights(&mut self, net: u32) -> RResult<RVec<OwnedTensor>, PluginError> {
        catch_panic("weights", || {
            Ok(self
                .host
                .weights(net)?
                .into_iter()
                .map(OwnedTensor::new)
                .collect())
        })
        .into()
    }

    fn zero_grad(&mut self, net: u32) -> RResult<(), PluginError> {
        catch_panic("zero_grad", || self.host.zero_grad(net)).into()
    }

    fn weight_step(&mut self, net: u32) -> RResult<(), PluginError> {
        catch_panic("weight_step", || self.host.weight_step(net)).into()
    }

    fn weight_lr(&self, net: u32) -> f64 {
        catch_panic("weight_lr", || Ok(self.host.weight_lr(net))).unwrap_or(0.0)
    }

    fn build_network(&mut self, spec: RStr<'_>) -> RResult<u32, PluginError> {
        catch_panic("build_network", || {
            let spec: NetworkSpec = parse("network spec", spec)?;
            self.host.build_network(&spec)
        })
        .into()
    }

    fn evaluate(
        &mut self,
        net: u32,
        architecture: RStr<'_>,
        recalibrate: u32,
        batches: u32,
    ) -> RResult<f64, PluginError> {
        catch_panic("evaluate", || {
            let arch: Value = parse("architecture", architecture)?;
            self.host
                .evaluate(net, &arch, recalibrate as usize, batches as usize)
        })
        .into()
    }

    fn costs(&mut self, net: u32) -> RResult<RString, PluginError> {
        catch_panic("costs", || {
            let table = self.host.costs(net)?;
            serde_json::to_string(&table)
                .map(RString::from)
                .map_err(|e| PluginError::internal(e.to_string()))
        })
        .into()
    }

    fn rebuild(&mut self, net: u32, options: RStr<'_>) -> RResult<(), PluginError> {
        catch_panic("rebuild", || {
            let options: Value = parse("rebuild options", options)?;
            self.host.rebuild(net, &options)
        })
        .into()
    }

    fn set_dropout(&mut self, net: u32, role: CandidateRole, p: f64) -> RResult<(), PluginError> {
        catch_panic("set_dropout", || {
            if !(0.0..1.0).contains(&p) {
                return Err(PluginError::invalid_input(format!(
                    "dropout probability {p} is not in [0, 1)"
                )));
            }
            self.host.set_dropout(net, role, p)
        })
        .into()
    }

    fn report(&mut self, report: RStr<'_>) -> RResult<(), PluginError> {
        catch_panic("report", || {
            let report: Report = parse("report", report)?;
            self.host.report(report)
        })
        .into()
    }
}

/// Lends `host` across the ABI for the duration of `f` (the host's side of every
/// trainer call).
pub fn with_host<H: SupernetHost + ?Sized, R>(
    host: &mut H,
    f: impl FnOnce(SupernetRef<'_>) -> R,
) -> R {
    let mut adapter = HostAdapter { host };
    f(SupernetAbi_TO::from_ptr(&mut adapter, TD_Opaque))
}
