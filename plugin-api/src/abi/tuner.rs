//! The tuner (classic NAS strategy) as a stable trait object.
//!
//! All payloads are JSON text in NNI's classic-NAS format: the search space, a trial's
//! parameters, a metric (`0.93` or `{"default": 0.93, ...}`), the tuner's saved state.

// abi_stable 0.11's `#[sabi_trait]` expands to impls inside a const block.
#![allow(non_local_definitions)]

use crate::error::PluginError;
use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RStr, RString},
};

/// The tuner as the host calls it. Implemented by plugin-api's adapter around an
/// author's [`Tuner`](crate::Tuner); every call is guarded against panics.
#[sabi_trait]
pub trait TunerAbi: Send {
    /// Replaces the search space (JSON). Called before the first `generate_parameters`.
    fn update_search_space(&mut self, search_space: RStr<'_>) -> RResult<(), PluginError>;

    /// Parameters (architecture JSON) for the trial `parameter_id`, or `RNone` once
    /// the tuner has no more trials to offer (e.g. a finite space is exhausted).
    fn generate_parameters(&mut self, parameter_id: u64) -> RResult<ROption<RString>, PluginError>;

    /// The final result of trial `parameter_id`: its parameters and its metric (JSON).
    fn receive_trial_result(
        &mut self,
        parameter_id: u64,
        parameters: RStr<'_>,
        metric: RStr<'_>,
    ) -> RResult<(), PluginError>;

    /// Trial `parameter_id` ended, successfully or not.
    fn trial_end(&mut self, parameter_id: u64, success: bool) -> RResult<(), PluginError>;

    /// The tuner's whole state as JSON, for checkpoints and resume.
    fn save_state(&self) -> RResult<RString, PluginError>;

    /// Restores a state written by `save_state`.
    #[sabi(last_prefix_field)]
    fn load_state(&mut self, state: RStr<'_>) -> RResult<(), PluginError>;

    /// What the tuner says about trial `parameter_id` beyond its parameters, as a JSON
    /// object (e.g. `{"budget": 9, "rung": 2, "promoted_from": 14}`), or `RNone`.
    fn trial_info(&self, parameter_id: u64) -> RResult<ROption<RString>, PluginError>;
}

/// An owned tuner trait object (freed by the plugin's own drop glue).
pub type TunerBox = TunerAbi_TO<'static, RBox<()>>;
