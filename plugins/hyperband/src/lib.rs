//! `hyperband` — Hyperband (Li et al., JMLR 2018): successive halving run in brackets
//! that trade the number of architectures against the budget each starts with.
//!
//! Budgets form a ladder `min_budget`, `min_budget·η`, … up to `max_budget` (rungs
//! 0..=K). Bracket s (s = K, K−1, …, 0, then again) starts ⌈(K+1)/(s+1)·η^s⌉ random
//! architectures at rung K−s; when all of a rung's trials have ended, the best ⌊n/η⌋
//! (at least one) continue at the next rung, up to `max_budget`. As in NNI's default
//! "parallelism" mode, a free trial slot starts the next bracket rather than wait for
//! a rung to finish. A promotion is a new trial of the same architecture at the
//! higher budget (`promoted_from`); the budget reaches the trial as `ARCHON_BUDGET`.

mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{HyperbandOptions, HyperbandTuner};

archon_plugin_api::export_plugin! {
    name: "hyperband",
    version: env!("CARGO_PKG_VERSION"),
    description: "Hyperband: brackets of successive halving over a ladder of budgets (multi-fidelity), seedable",
    options: HyperbandOptions,
    tuner: HyperbandTuner,
}
