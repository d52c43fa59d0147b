//! `nsga2` — NSGA-II (Deb et al., IEEE TEC 2002): multi-objective evolution towards the
//! Pareto front of the experiment's `objectives` (given by the host; without them, the
//! trial's value in `optimize_mode`).
//!
//! The first `population_size` (20) architectures are random. After that, each proposal
//! comes from the current population: every finished trial ranked by non-dominated
//! sorting, ties within a front broken by crowding distance, the best
//! `population_size` kept; two parents by binary tournament (rank, then crowding), uniform
//! crossover with probability `crossover_prob` (0.9), each choice redrawn with
//! probability `mutation_prob` (1 / number of choices), no repeats. Proposals do not wait
//! for a generation to finish (the population is whatever has finished), so every trial
//! slot stays busy. Seeded; the whole state survives save/restore.

mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{Nsga2Options, Nsga2Tuner};

archon_plugin_api::export_plugin! {
    name: "nsga2",
    version: env!("CARGO_PKG_VERSION"),
    description: "NSGA-II: multi-objective evolution towards the Pareto front of the experiment's objectives, seedable",
    options: Nsga2Options,
    tuner: Nsga2Tuner,
}
