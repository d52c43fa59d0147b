//! Choice points and how an algorithm sets them.
//!
//! A network is built once through a [`Builder`]: in *supernet* mode every candidate
//! of every choice is built and the choices are recorded; in *child* mode only what
//! an architecture selects is built. A supernet is steered only through [`Setting`]s,
//! one per choice label: `Fixed` (single path) or `Weighted` (a differentiable
//! mixture). Choices that share a label share one decision.

mod builder;
mod input_choice;
mod layer_choice;
mod partial;
mod repeat;
mod role;
mod setting;
mod value_choice;

pub use builder::{Builder, ChoicePoint};
pub use input_choice::{InputChoice, Reduction};
pub use layer_choice::LayerChoice;
pub use partial::{channel_shuffle, forward_partial, PartialChannels};
pub use repeat::Repeat;
pub use role::role_of;
pub use setting::{Setting, Settings};
pub use value_choice::{Value, ValueChoice};
