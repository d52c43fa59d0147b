//! `evolution` — regularized (aging) evolution (Real et al. 2019, "Regularized
//! Evolution for Image Classifier Architecture Search"). Defaults: a population of 20
//! and tournaments of 5 (NNI's 100 and 25 suit thousands of trials; at the budgets of a
//! few hundred that NAS on one machine affords, 100 random trials would be most of the
//! search — measured on the ground-truth table, 100 trials × 20 seeds: population 100
//! was random search, population 20 beats random search by about 6 standard errors of
//! the difference; `benchmarks/results/tuners.txt`).
//!
//! Until `population_size` results are in, it proposes random architectures. Then each
//! proposal is a mutation of the best of `sample_size` individuals drawn at random
//! from the population: every choice is redrawn with probability `mutation_prob` (at
//! least one always changes). Each result joins the population and the oldest member
//! leaves it (aging). Architectures are never proposed twice; input choices keep their
//! `n_chosen`; a finite space ends with "no more trials".

mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{EvolutionOptions, EvolutionTuner};

archon_plugin_api::export_plugin! {
    name: "evolution",
    version: env!("CARGO_PKG_VERSION"),
    description: "Regularized (aging) evolution: tournament selection, mutation, no repeats",
    options: EvolutionOptions,
    tuner: EvolutionTuner,
}
