//! Shared pieces of the one-shot trainers: for the differentiable family (DARTS,
//! P-DARTS, CDARTS, GDAS, ProxylessNAS) architecture parameters and how they drive the
//! supernet's choices, the derivation of a discrete architecture (with the collapse
//! guard) and the DARTS update steps, with [`ArchSearch`] holding α, the guard and their
//! share of begin/save/load/export; for the sampling family (ENAS, TextNAS, SPOS) the
//! single-path [`train_step`], [`apply_selections`] and the ENAS controller; and the
//! option groups the trainers share ([`ArchOptions`], [`GuardOptions`],
//! [`EnasOptions`]).

mod arch_params;
mod arch_search;
mod controller;
mod derive;
mod enas;
mod epoch;
mod options;
mod selections;
mod steps;
mod within_limits;

pub use arch_params::{ArchOptim, ArchParams, Mixture};
pub use arch_search::{ArchSearch, GuardedState};
pub use controller::{Controller, ControllerConfig, Sample};
pub use derive::{CollapseGuard, CollapseStats, Derived};
pub use enas::{EnasFlavour, EnasTrainer};
pub use epoch::{finish_epoch, report_step};
pub use options::{ArchOptions, EnasOptions, GuardOptions};
pub use selections::{apply_architecture, apply_selections};
pub use steps::{
    accuracy, arch_step_first_order, cross_entropy, first_order_steps, second_order_steps,
    train_step, weight_step, StepMeter,
};
pub use within_limits::{fit_within, Preference};
