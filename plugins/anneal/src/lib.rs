//! `anneal` — annealing around good trials, as NNI's `Anneal` tuner (hyperopt's
//! `anneal` algorithm, Bergstra et al.). Until a result is in, it proposes random
//! architectures. Then each proposal starts from a good earlier trial — the k-th best,
//! k drawn from a geometric distribution with mean `avg_best_idx` (2: usually the best
//! or the second) — and moves away from it by an amount that shrinks as results come
//! in: with T results, `shrinking = 1 / (1 + T · shrink_coef)` (hyperopt's 0.1).
//! Categorical choices (layer, input, value choices, randint) are redrawn from their
//! prior with probability `shrinking`, else kept; a uniform number is drawn from a
//! window `shrinking` times its range wide around the good value (slid to stay inside
//! the bounds; in log space for log types, then rounded for `q` types); a normal one
//! from N(good value, `shrinking`·σ). Architectures are never proposed twice; a finite
//! space ends with "no more trials". Seedable; the whole state survives save/restore.

mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{AnnealOptions, AnnealTuner};

archon_plugin_api::export_plugin! {
    name: "anneal",
    version: env!("CARGO_PKG_VERSION"),
    description: "Annealing around good trials (NNI's Anneal): proposals narrow as results come in, no repeats",
    options: AnnealOptions,
    tuner: AnnealTuner,
}
