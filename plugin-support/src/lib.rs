//! Shared pieces for archon's plugins (tuners and one-shot trainers), so that no plugin copies another's code.
//! Third-party plugins may use them too; they are ordinary Rust, not part of the ABI.

pub mod brackets;
pub mod budget;
pub mod decisions;
pub mod evolution;
pub mod fidelity;
pub mod neighbours;
pub mod one_shot;
pub mod pareto;
pub mod parzen;
pub mod python_bridge;
mod saved_state;
pub mod scheduled;
mod seeded_rng;
pub mod tpe_model;
pub mod trial_book;

pub use saved_state::{check_architectures_fit, load_state, present, save_state};
pub use seeded_rng::{bad_state, SeededRng};
