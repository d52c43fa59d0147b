//! One-shot NAS: a trainer plugin searches inside a supernet that the host owns.
//!
//! The host builds the supernet from a space, owns its weights, the data and the
//! weight optimizer, and lends it to the trainer as a [`SupernetContext`]. A trainer
//! ([`OneShotTrainer`]) owns only its algorithm state — architecture parameters,
//! controllers, populations — and touches the network only by setting each choice to
//! [`Setting::Fixed`] (single path) or [`Setting::Weighted`] (a differentiable
//! mixture). That keeps every algorithm independent of every space.
//!
//! The host calls [`OneShotTrainer::begin`] once, [`OneShotTrainer::epoch`] per search
//! epoch, and [`OneShotTrainer::export`] at the end.

mod context;
mod device;
mod host;
mod info;
mod limits;
mod roles;
mod trainer;

pub use context::{Batch, Grads, NetId, Setting, Split, StepOutput, SupernetContext, SUPERNET};
pub use device::SearchDevice;
pub use host::{one_pass_step, pass_on_gradients, with_host, SupernetHost};
pub use info::{CandidateCost, ChoiceInfo, CostTable, NetworkSpec, Report, Scored, SearchInfo};
pub use limits::{Excess, Limits};
pub use roles::{CandidateRole, DecisionKind};
pub use trainer::{OneShotClient, OneShotTrainer};

#[doc(hidden)]
pub use trainer::new_one_shot_trainer;
