//! The stable ABI itself: the root module every plugin exports, its metadata, and the
//! `#[sabi_trait]` objects for each plugin kind. Plugin authors never touch this module;
//! [`export_plugin!`](crate::export_plugin) generates everything in it for them.
//!
//! Versioning: the root module and every trait object are abi_stable *prefix types*.
//! New fields and methods are only ever appended after the `last_prefix_field`, so a
//! host can load plugins built against an older plugin-api of the same release line
//! (the missing entries read as absent) and the other way round.

mod cell;
mod metadata;
mod one_shot;
mod root_module;
mod tuner;

pub use cell::{CellAbi, CellAbi_TO, CellBox};
pub use metadata::{PluginKind, PluginMetadata};
pub use one_shot::{
    BatchAbi, OneShotTrainerAbi, OneShotTrainerAbi_TO, OneShotTrainerBox, StepAbi, SupernetAbi,
    SupernetAbi_TO, SupernetRef,
};
pub use root_module::{PluginMod, PluginModRef, ROOT_MODULE_SYMBOL};
pub use tuner::{TunerAbi, TunerAbi_TO, TunerBox};
