//! ENAS (Pham et al., "Efficient Neural Architecture Search via Parameter Sharing",
//! ICML 2018) as an archon one-shot plugin, for the macro space (`enas-macro`) and the
//! micro (cell) spaces (`enas-micro`, `darts`, …) alike.
//!
//! An LSTM controller (hidden 64) samples one child per training batch; the shared
//! weights train on it (`Fixed` settings). Each epoch the controller then draws
//! `ctrl_steps` (50) children, each rewarded with its accuracy on one validation
//! batch plus an entropy bonus (1e-4), against a moving-average baseline (decay
//! 0.999), with a KL penalty (weight 0.8) pulling skip connections towards 0.4;
//! gradients of `ctrl_steps_aggregate` (20) samples make one Adam step (3.5e-4).
//! Logits are squashed by `tanh_constant`: 1.5 on the macro space, 1.1 on cell spaces.
//! Export: the most likely architecture, or the best of `export_samples` by validation
//! accuracy (batch norm recalibrated on `export_recalibrate` batches first).
//!
//! Options: `ctrl_steps`, `export_samples`, `export_recalibrate`, `lstm_size`, `tanh_constant`,
//! `temperature`, `skip_target`, `skip_weight`, `entropy_weight`, `baseline_decay`,
//! `ctrl_lr`, `ctrl_steps_aggregate`, `seed`.

use archon_plugin_api::plugin_options;
use archon_plugin_support::one_shot::{EnasFlavour, EnasOptions, EnasTrainer};

plugin_options! {
    /// ENAS's options.
    pub struct EnasSearchOptions {
        /// Logits become `c · tanh(logits)` (default: 1.5 on the macro space, 1.1 on
        /// cell spaces; ≤ 0: not squashed).
        pub tanh_constant: Option<f64> = None,
        /// Logits are divided by this first (none: not divided).
        pub temperature: Option<f64> = None,
        #[flatten]
        pub enas: EnasOptions = EnasOptions::default(),
    }
}

/// ENAS's defaults.
pub struct Enas;

impl EnasFlavour for Enas {
    const NAME: &'static str = "enas";
    type Options = EnasSearchOptions;

    fn shared(options: &EnasSearchOptions) -> &EnasOptions {
        &options.enas
    }

    fn squashing(options: &EnasSearchOptions, cell_space: bool) -> (Option<f64>, Option<f64>) {
        let tanh = options
            .tanh_constant
            .unwrap_or(if cell_space { 1.1 } else { 1.5 });
        (Some(tanh), options.temperature)
    }
}

/// The exported trainer.
pub type EnasSearch = EnasTrainer<Enas>;

archon_plugin_api::export_plugin! {
    name: "enas",
    version: env!("CARGO_PKG_VERSION"),
    description: "ENAS: an LSTM controller samples children of a shared-weight supernet, REINFORCE on validation accuracy",
    options: EnasSearchOptions,
    one_shot_trainer: EnasSearch,
}
