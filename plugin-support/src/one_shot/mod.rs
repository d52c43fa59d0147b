//! Shared pieces of the one-shot trainers: for the differentiable family (DARTS,
//! P-DARTS, CDARTS, GDAS, ProxylessNAS) architecture parameters and how they drive the
//! supernet's choices, the derivation of a discrete architecture (with the collapse
//! guard) and the DARTS update steps; for the sampling family (ENAS, TextNAS) the ENAS
//! controller.

mod arch_params;
mod controller;
mod derive;
mod enas;
mod epoch;
mod steps;

pub use arch_params::{apply_architecture, started, started_mut, ArchOptim, ArchParams, Mixture};
pub use controller::{Controller, ControllerConfig, Sample};
pub use derive::{CollapseGuard, CollapseStats, Derived};
pub use enas::{EnasFlavour, EnasTrainer};
pub use epoch::{finish_epoch, report_step};
pub use steps::{
    accuracy, arch_step_first_order, arch_step_second_order, cross_entropy, weight_step, StepMeter,
};
