//! `random` — uniform random search over every choice of an NNI-format space.
//!
//! Each architecture is equally likely and none is proposed twice. For a space whose
//! size fits in a `u128` it samples architecture numbers without replacement with a
//! sparse Fisher–Yates shuffle (memory grows with the trials drawn, not the space),
//! and says "no more trials" once every architecture was proposed. Larger spaces are
//! sampled choice by choice, with repeats rejected. Seedable (`{"seed": 42}`); the
//! whole state — generator position included — survives save/restore.

mod sampler;
mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{RandomOptions, RandomTuner};

archon_plugin_api::export_plugin! {
    name: "random",
    version: env!("CARGO_PKG_VERSION"),
    description: "Uniform random search: every architecture equally likely, no repeats, seedable",
    options: RandomOptions,
    tuner: RandomTuner,
}
