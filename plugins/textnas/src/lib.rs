//! TextNAS (Wang et al., "TextNAS: A Neural Architecture Search Space tailored for
//! Text Representation", AAAI 2020) as an archon one-shot plugin: the ENAS search loop
//! and controller (shared with the `enas` plugin) over the `textnas` space — per layer
//! the input, the operation (convolutions, pooling, bi-GRU, self-attention) and the
//! skip connections — on any text task (`fortunes`, `tsv`).
//!
//! Defaults are those of ENAS's recurrent controller, which TextNAS uses: temperature
//! 5, tanh constant 2.5, skip target 0.4 (weight 0.8), entropy 1e-4, baseline decay
//! 0.999, Adam 3.5e-4, 20 samples per update.
//!
//! Options: as the `enas` plugin.

use archon_plugin_api::plugin_options;
use archon_plugin_support::one_shot::{EnasFlavour, EnasOptions, EnasTrainer};

plugin_options! {
    /// TextNAS's options (those of ENAS's recurrent controller).
    pub struct TextNasOptions {
        /// Logits become `c · tanh(logits)` (≤ 0: not squashed).
        pub tanh_constant: f64 = 2.5,
        /// Logits are divided by this first.
        pub temperature: f64 = 5.0,
        #[flatten]
        pub enas: EnasOptions = EnasOptions::default(),
    }
}

/// TextNAS's defaults.
pub struct TextNas;

impl EnasFlavour for TextNas {
    const NAME: &'static str = "textnas";
    type Options = TextNasOptions;

    fn shared(options: &TextNasOptions) -> &EnasOptions {
        &options.enas
    }

    fn squashing(options: &TextNasOptions, _cell_space: bool) -> (Option<f64>, Option<f64>) {
        (Some(options.tanh_constant), Some(options.temperature))
    }
}

/// The exported trainer.
pub type TextNasSearch = EnasTrainer<TextNas>;

archon_plugin_api::export_plugin! {
    name: "textnas",
    version: env!("CARGO_PKG_VERSION"),
    description: "TextNAS: the ENAS controller over the TextNAS space, for text classification",
    options: TextNasOptions,
    one_shot_trainer: TextNasSearch,
}
