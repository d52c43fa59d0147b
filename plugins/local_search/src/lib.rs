//! `local_search` — local search over one-edit neighbours (White, Nolen, Savani, "Local
//! search is state of the art for neural architecture search benchmarks", 2020).
//!
//! It draws `initial` random architectures and starts from the best of them. Then it
//! proposes the current architecture's one-edit neighbours (one choice changed: see
//! `archon_plugin_support::neighbours`) in random order, and moves to the first one
//! that does strictly better, starting again from its neighbours. When every neighbour
//! of the current architecture has been tried without improvement it is a local
//! optimum: the search restarts from the best of `initial` new random architectures.
//! Every NNI type is read (numbers step a tenth of their range, or half a deviation);
//! architectures are never proposed twice, and a finite space ends with "no more
//! trials". Seedable; the whole state survives save/restore.

mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{LocalSearchOptions, LocalSearchTuner};

archon_plugin_api::export_plugin! {
    name: "local_search",
    version: env!("CARGO_PKG_VERSION"),
    description: "Local search: the best of a few random architectures, then one-edit neighbours while they improve, restarts at local optima",
    options: LocalSearchOptions,
    tuner: LocalSearchTuner,
}
