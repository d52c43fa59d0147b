//! The one-shot trainer and the supernet context it drives, as stable trait objects.
//!
//! The host owns the supernet (weights, data, weight optimizer) and lends it to the
//! trainer for one call at a time as a [`SupernetAbi`] object; the trainer owns only
//! its algorithm state. Structured payloads are JSON text; tensors travel as
//! [`OwnedTensor`] (ownership moves) or [`TensorRef`] (lent for the call).
//!
//! Networks are named by a `u32` handle: 0 is the supernet being searched; others come
//! from `build_network`. Errors are [`PluginError`]s on both sides; the host's side is
//! guarded against panics like the plugin's.

// abi_stable 0.11's `#[sabi_trait]` expands to impls inside a const block.
#![allow(non_local_definitions)]

use crate::{
    error::PluginError,
    one_shot::{CandidateRole, Grads, Split},
    tensor::{OwnedTensor, TensorRef},
};
use abi_stable::{
    sabi_trait,
    sabi_types::RMut,
    std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec},
    StableAbi,
};

/// A batch handed to the trainer: both tensors are the trainer's.
#[repr(C)]
#[derive(StableAbi)]
pub struct BatchAbi {
    /// Inputs (`[N, C, H, W]` images or `[N, L]` token ids).
    pub inputs: OwnedTensor,
    /// Class labels `[N]` (int64).
    pub labels: OwnedTensor,
}

/// What a forward-backward pass returns across the ABI.
#[repr(C)]
#[derive(StableAbi)]
pub struct StepAbi {
    /// The mean cross-entropy over the batch.
    pub loss: f64,
    /// The logits, detached.
    pub logits: OwnedTensor,
}

/// The supernet context as the trainer calls it. Implemented by plugin-api's adapter
/// around the host's [`SupernetHost`](crate::one_shot::SupernetHost).
#[sabi_trait]
pub trait SupernetAbi {
    /// What is being searched (JSON [`SearchInfo`](crate::one_shot::SearchInfo)).
    fn info(&self) -> RString;

    /// Sets choice `label` of network `net`: `Fixed(indices)` without weights,
    /// `Weighted(indices, weights)` with a 1-D weights tensor of `indices.len()`.
    fn set(
        &mut self,
        net: u32,
        label: RStr<'_>,
        indices: RSlice<'_, u32>,
        weights: ROption<TensorRef<'_>>,
    ) -> RResult<(), PluginError>;

    /// The next batch of a split (train: weights; valid: architecture).
    fn next_batch(&mut self, split: Split) -> RResult<BatchAbi, PluginError>;

    /// Logits of network `net` for `inputs` (training mode, with autograd).
    fn forward(&mut self, net: u32, inputs: TensorRef<'_>) -> RResult<OwnedTensor, PluginError>;

    /// The weight tensors of `net` (handles sharing storage and gradients).
    fn weights(&mut self, net: u32) -> RResult<RVec<OwnedTensor>, PluginError>;

    /// Zeroes the gradients of `net`'s weights.
    fn zero_grad(&mut self, net: u32) -> RResult<(), PluginError>;

    /// One step of `net`'s weight optimizer (gradient clipping included).
    fn weight_step(&mut self, net: u32) -> RResult<(), PluginError>;

    /// The current learning rate of `net`'s weight optimizer.
    fn weight_lr(&self, net: u32) -> f64;

    /// Builds another network (JSON [`NetworkSpec`](crate::one_shot::NetworkSpec));
    /// returns its handle.
    fn build_network(&mut self, spec: RStr<'_>) -> RResult<u32, PluginError>;

    /// Validation accuracy of an architecture (JSON) on `net`, after recalibrating
    /// batch norm on `recalibrate` training batches, over `batches` valid batches
    /// (0: the whole split).
    fn evaluate(
        &mut self,
        net: u32,
        architecture: RStr<'_>,
        recalibrate: u32,
        batches: u32,
    ) -> RResult<f64, PluginError>;

    /// Per-candidate costs of `net`'s choices (JSON
    /// [`CostTable`](crate::one_shot::CostTable)).
    fn costs(&mut self, net: u32) -> RResult<RString, PluginError>;

    /// Rebuilds `net` with changed space options (JSON object), fresh weights and a
    /// fresh optimizer; labels of choices stay.
    fn rebuild(&mut self, net: u32, options: RStr<'_>) -> RResult<(), PluginError>;

    /// Dropout with probability `p` after every candidate of `role` in `net`, in
    /// training forward passes (0 turns it off).
    fn set_dropout(&mut self, net: u32, role: CandidateRole, p: f64) -> RResult<(), PluginError>;

    /// Records progress (JSON [`Report`](crate::one_shot::Report)).
    #[sabi(last_prefix_field)]
    fn report(&mut self, report: RStr<'_>) -> RResult<(), PluginError>;

    /// Forward, mean cross-entropy against `labels` and backward into the gradients
    /// `grads` names, of network `net` on one batch (plugin-api 0.4.0).
    fn forward_backward(
        &mut self,
        net: u32,
        inputs: TensorRef<'_>,
        labels: TensorRef<'_>,
        grads: Grads,
    ) -> RResult<StepAbi, PluginError>;
}

/// The supernet context lent to the trainer for one call.
pub type SupernetRef<'a> = SupernetAbi_TO<'a, RMut<'a, ()>>;

/// The one-shot trainer as the host calls it. Implemented by plugin-api's adapter
/// around an author's [`OneShotTrainer`](crate::one_shot::OneShotTrainer); every call
/// is guarded against panics.
#[sabi_trait]
pub trait OneShotTrainerAbi: Send {
    /// Prepares the search (architecture parameters for the supernet's choices).
    fn begin(&mut self, supernet: SupernetRef<'_>) -> RResult<(), PluginError>;

    /// Runs search epoch `epoch` (from 0).
    fn epoch(&mut self, supernet: SupernetRef<'_>, epoch: u32) -> RResult<(), PluginError>;

    /// The architecture found so far (NNI-format JSON for the supernet's space).
    #[sabi(last_prefix_field)]
    fn export(&mut self, supernet: SupernetRef<'_>) -> RResult<RString, PluginError>;

    /// The trainer's whole state as JSON, taken between epochs for a checkpoint.
    fn save_state(&self) -> RResult<RString, PluginError>;

    /// Restores a state written by `save_state` (instead of `begin`), on a supernet the
    /// host has restored to the same checkpoint.
    fn load_state(
        &mut self,
        supernet: SupernetRef<'_>,
        state: RStr<'_>,
    ) -> RResult<(), PluginError>;
}

/// An owned one-shot trainer trait object (freed by the plugin's own drop glue).
pub type OneShotTrainerBox = OneShotTrainerAbi_TO<'static, RBox<()>>;
