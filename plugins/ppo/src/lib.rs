//! `ppo` — NNI's PPO tuner: an LSTM policy (with a value head) reads the choices of the
//! search space one decision at a time and samples each; every `trials_per_update`
//! results it is trained with the clipped PPO objective and GAE advantages (the reward
//! arrives at the last decision). Defaults as NNI: trials_per_update 20,
//! epochs_per_update 4, 4 minibatches, lr 3e-4, ent_coef 0, vf_coef 0.5,
//! max_grad_norm 0.5, gamma 0.99, lam 0.95, cliprange 0.2.
//!
//! Sampling uses the tuner's own seeded generator and the network is initialised from
//! it too, so runs are reproducible and libtorch's global generator is never touched.

mod policy;
mod tuner;

#[cfg(test)]
mod tests;

pub use tuner::{PpoOptions, PpoTuner};

archon_plugin_api::export_plugin! {
    name: "ppo",
    version: env!("CARGO_PKG_VERSION"),
    description: "PPO: an LSTM policy over the choices, trained with clipped PPO and GAE (NNI's PPO tuner)",
    options: PpoOptions,
    tuner: PpoTuner,
}
