//! Shared pieces for archon's tuner plugins, so that no plugin copies another's code.
//! Third-party plugins may use them too; they are ordinary Rust, not part of the ABI.

mod seeded_rng;

pub use seeded_rng::{bad_state, SeededRng};
