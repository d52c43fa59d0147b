//! `pbt` — population based training (Jaderberg et al. 2017), as NNI's `PBTTuner`.
//!
//! A population of `population_size` members trains in generations: each trial runs
//! one step of one member (e.g. an epoch), loading the member's checkpoint from
//! `load_checkpoint_dir` and saving it to `save_checkpoint_dir` — two folders the
//! trial receives beside its hyper-parameters (NNI's parameters of those names, through
//! archon's `nni` module; `ARCHON_LOAD_CHECKPOINT_DIR` / `ARCHON_SAVE_CHECKPOINT_DIR`
//! for any trial command). When every member of a generation has a result, the members
//! are ranked; the bottom `fraction` take a random top member's checkpoint (exploit)
//! and its hyper-parameters perturbed (explore: with `resample_probability` a parameter
//! is drawn afresh, otherwise it moves one step up or down — a choice or randint to
//! the next candidate, a number by `factor` × its range, in log space for log types,
//! by `factor` × σ for normal types — clipped to the space); the rest continue their
//! own. Checkpoints live in `checkpoint_dir/<member>/<generation>` (NNI's
//! `all_checkpoint_dir`; default: the experiment's `checkpoints` folder). A failed
//! trial ranks last. PBT runs until the experiment's trial or time limit; between
//! generations it proposes nothing while the generation's trials run. The whole state
//! survives save/restore.

mod perturb;
mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{PbtOptions, PbtTuner};

archon_plugin_api::export_plugin! {
    name: "pbt",
    version: env!("CARGO_PKG_VERSION"),
    description: "Population based training (NNI's PBTTuner): generations that continue from checkpoints, exploit and explore",
    options: PbtOptions,
    tuner: PbtTuner,
}
