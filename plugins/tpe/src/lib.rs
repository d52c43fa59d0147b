//! `tpe` — the Tree-structured Parzen Estimator (Bergstra et al., NeurIPS 2011), with
//! NNI's defaults: 20 random start-up trials, γ = 0.25 (the "good" trials are the best
//! ⌈γ·√N⌉, at most 25), 24 candidates per suggestion scored by l(x)/g(x), linear
//! forgetting after 25 observations, the search space itself counted as one prior
//! observation (weight 1), and the "best" constant liar for trials still running.
//!
//! Each parameter is modelled on its own, as in NNI: categorical ones (`layer_choice`,
//! `choice`, `randint`, and input choices, by subset) with smoothed counts, numeric ones
//! with adaptive Parzen windows of Gaussians over the prior's space (the logarithm for
//! `log` types; uniform priors truncated to their bounds; `q` rounding applied to the
//! proposal). A proposal already tried is replaced by an unseen random one; a finite
//! space that is exhausted ends the search. Seeded; the whole state survives
//! save/restore.

mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{TpeOptions, TpeTuner};

archon_plugin_api::export_plugin! {
    name: "tpe",
    version: env!("CARGO_PKG_VERSION"),
    description: "Tree-structured Parzen Estimator (NNI's defaults) over categorical and numeric parameters, seedable",
    options: TpeOptions,
    tuner: TpeTuner,
}
