//! `asha` — asynchronous successive halving (Li et al., MLSys 2020), the
//! multi-fidelity tuner that keeps every worker busy.
//!
//! Budgets form a ladder `min_budget`, `min_budget·η`, … up to `max_budget` (the
//! rungs). Whenever a trial slot is free, ASHA promotes an architecture that is in the
//! top 1/η of the finished trials of its rung and was not promoted yet (highest rung
//! first) to the next rung; if there is none, it starts a new random architecture at
//! the lowest rung. No waiting for stragglers. A promotion is a new trial of the same
//! architecture at the higher budget (`promoted_from` names the trial it continues);
//! the budget reaches the trial as `ARCHON_BUDGET` (the built-in trial's epochs, a
//! table's `METRIC@BUDGET` column).

mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{AshaOptions, AshaTuner};

archon_plugin_api::export_plugin! {
    name: "asha",
    version: env!("CARGO_PKG_VERSION"),
    description: "ASHA: asynchronous successive halving over a ladder of budgets (multi-fidelity), seedable",
    options: AshaOptions,
    tuner: AshaTuner,
}
