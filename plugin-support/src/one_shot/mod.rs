//! Shared pieces of the differentiable one-shot trainers (DARTS, P-DARTS, CDARTS,
//! GDAS): architecture parameters and how they drive the supernet's choices, the
//! derivation of a discrete architecture (with the collapse guard), and the DARTS
//! update steps.

mod arch_params;
mod derive;
mod epoch;
mod steps;

pub use arch_params::{apply_architecture, ArchOptim, ArchParams, Mixture};
pub use derive::{CollapseGuard, CollapseStats, Derived};
pub use epoch::{finish_epoch, report_step};
pub use steps::{
    accuracy, arch_step_first_order, arch_step_second_order, cross_entropy, weight_step, StepMeter,
};
