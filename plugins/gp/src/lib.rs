//! `gp` — Bayesian optimisation with a Gaussian-process surrogate, as NNI's `GPTuner`,
//! over every type of NNI's space: numbers and architectures alike.
//!
//! Each trial is encoded as a point of a unit box (`encoding`): a number by its place
//! in its prior's range (its logarithm for log types), a numeric `choice` or `randint`
//! by its rank among its values, a layer choice, a non-numeric `choice` or an input
//! choice by a one-hot (or multi-hot) block scaled so that two different candidates are
//! one apart — a Hamming distance; inactive sub-parameters of nested choices are zero.
//! A GP with a Matérn kernel (`nu` 2.5 by default) models the metric (`model`): its
//! length scale and noise are chosen by marginal likelihood on a grid at each
//! proposal, its variance in closed form. After `cold_start_num` random trials, each
//! proposal maximises the acquisition (`utility`: expected improvement by default,
//! upper confidence bound or probability of improvement, with NNI's `kappa` and `xi`)
//! over `selection_num_warm_up` random candidates and hill climbs from the
//! `selection_num_starting_points` best of them and of the trials (one-edit
//! neighbours; numbers also jittered). Running trials count at the mean of the results
//! so far (a constant liar), so parallel proposals differ. Architectures are never
//! proposed twice; a finite space ends with "no more trials". Seedable; the state
//! survives save/restore.

mod encoding;
mod model;
mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{GpOptions, GpTuner, Utility};

archon_plugin_api::export_plugin! {
    name: "gp",
    version: env!("CARGO_PKG_VERSION"),
    description: "Bayesian optimisation with a Gaussian process (NNI's GPTuner): Matérn kernel on numbers and one-hot choices, expected improvement",
    options: GpOptions,
    tuner: GpTuner,
}
