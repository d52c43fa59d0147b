//! The conformance kit: the checks every archon plugin must pass, run by
//! `archon plugins check` on a loaded library and callable from a plugin's own tests
//! (through [`TunerClient::in_process`](crate::TunerClient::in_process) and
//! [`OneShotClient::in_process`](crate::OneShotClient::in_process)).
//!
//! Each check is independent and records what it saw, so a failing plugin gets a full
//! table, not just the first failure.

pub mod benchmark;
pub mod fixtures;
mod report;
mod toy_rng;
mod toy_supernet;
mod trainer_checks;
mod tuner_checks;

pub use report::{CheckOutcome, ConformanceReport};
pub use toy_supernet::ToySupernet;
pub use trainer_checks::{check_trainer, toy_search, ToyRun, TrainerFactory};
pub use tuner_checks::check_tuner;
