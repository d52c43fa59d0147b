//! PC-DARTS (Xu et al., "PC-DARTS: Partial Channel Connections for Memory-Efficient
//! Architecture Search", ICLR 2020) as an archon one-shot plugin — absent from NNI.
//!
//! First-order DARTS with two changes. **Partial channels**: the supernet is rebuilt
//! with the space option `partial_channels = K`, so that only 1/K of every edge's
//! channels go through its candidate operations (the rest bypass them, then the
//! channels are shuffled): each step costs about 1/K of DARTS's memory and compute in
//! the mixed operations, which lets a search take larger batches. **Edge
//! normalisation**: every input choice over DARTS edges weights its inputs by a
//! softmax of its own parameters β during the search (the sampling noise of partial
//! channels then washes out of the edge selection), and derivation ranks an edge by β
//! times its best operation's weight. The architecture parameters are frozen for the
//! first `warmup_epochs` epochs (the paper: 15 of 50), while the weights train.
//!
//! Options: `partial_channels` (K, default 4 as the paper on CIFAR-10; 1 turns partial
//! channels off), `edge_normalization` (true), `warmup_epochs` (0), the architecture
//! optimizer's (`arch_lr` 6e-4 in the paper, here DARTS's 3e-4 by default, …), the
//! collapse guard's, `seed`. A space must declare the option `partial_channels`
//! (`archon space show SPACE`; nas-bench-201 does) unless K is 1.

use archon_plugin_api::{
    one_shot::{OneShotTrainer, Split, SupernetContext, SUPERNET},
    plugin_options,
    serde_json::{json, Value},
    OptionSet, Options, PluginError, Result,
};
use archon_plugin_support::{
    load_state,
    one_shot::{
        first_order_steps, report_step, train_step, ArchOptions, ArchSearch, GuardOptions,
        GuardedState, Mixture, StepMeter,
    },
    save_state,
};
use std::collections::BTreeMap;

plugin_options! {
    /// PC-DARTS's options.
    pub struct PcDartsOptions {
        /// K: 1/K of every edge's channels go through its operations (1: all, DARTS).
        pub partial_channels: u64 = 4,
        /// Weight each node's incoming edges by a softmax of their own parameters β.
        pub edge_normalization: bool = true,
        /// Epochs that train only the weights before the architecture moves.
        pub warmup_epochs: u64 = 0,
        /// Accepted for every trainer (the host passes `search.seed`).
        pub seed: Option<u64> = None,
        #[flatten]
        pub arch: ArchOptions = ArchOptions::default(),
        #[flatten]
        pub guard: GuardOptions = GuardOptions::default(),
    }
}

/// The PC-DARTS trainer.
pub struct PcDarts {
    partial_channels: u64,
    edge_normalization: bool,
    warmup_epochs: usize,
    search: ArchSearch,
    stopped: bool,
}

impl PcDarts {
    /// Rebuilds the supernet with partial channels (`begin`; a resumed search gets
    /// the rebuilt supernet back from the host's checkpoint).
    fn partial_supernet(&self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        if self.partial_channels <= 1 {
            return Ok(());
        }
        ctx.rebuild(SUPERNET, &json!({ "partial_channels": self.partial_channels }))
            .map_err(|e| {
                PluginError::invalid_input(format!(
                    "option partial_channels = {}: the space cannot build partial-channel edges ({e}); \
                     use a space with the option partial_channels (e.g. nas-bench-201) or set partial_channels = 1",
                    self.partial_channels
                ))
            })
    }
}

impl OneShotTrainer for PcDarts {
    fn new(options: &Options) -> Result<Self> {
        let o = PcDartsOptions::from_options(options, "pcdarts")?;
        if !(1..=64).contains(&o.partial_channels) {
            return Err(PluginError::invalid_input(format!(
                "option partial_channels: {} (K from 1, all channels, to 64; the paper uses 4)",
                o.partial_channels
            )));
        }
        Ok(PcDarts {
            partial_channels: o.partial_channels,
            edge_normalization: o.edge_normalization,
            warmup_epochs: o.warmup_epochs as usize,
            search: ArchSearch::new(o.arch.optim()?, o.guard.guard()?),
            stopped: false,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.partial_supernet(ctx)?;
        self.search.begin(ctx)?;
        let on = self.edge_normalization;
        self.search.params_mut("begin")?.set_edge_normalization(on);
        Ok(())
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let steps = ctx.info()?.steps_per_epoch;
        let (stopped, warming) = (self.stopped, epoch < self.warmup_epochs);
        let params = self.search.params_mut("epoch")?;
        let mut meter = StepMeter::default();
        if !stopped {
            for step in 0..steps {
                let train = ctx.next_batch(Split::Train)?;
                let mut metrics = Vec::with_capacity(4);
                let (loss, acc) = if warming {
                    params.apply(ctx, SUPERNET, Mixture::Softmax { grad: false })?;
                    train_step(ctx, SUPERNET, &train)?
                } else {
                    let valid = ctx.next_batch(Split::Valid)?;
                    let [(arch_loss, arch_acc), weights] =
                        first_order_steps(ctx, SUPERNET, params, &train, &valid)?;
                    metrics.extend([("valid_loss", arch_loss), ("valid_accuracy", arch_acc)]);
                    weights
                };
                metrics.extend([("loss", loss), ("accuracy", acc)]);
                report_step(ctx, &mut meter, (epoch, step), &metrics)?;
            }
        }
        let extra = BTreeMap::from([
            ("stopped".to_string(), f64::from(u8::from(stopped))),
            ("warmup".to_string(), f64::from(u8::from(warming))),
        ]);
        let derived = self.search.finish_epoch(ctx, epoch, &meter, extra)?;
        self.stopped |= derived.collapsed;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&GuardedState {
            params: self.search.state()?,
            stopped: self.stopped,
        })
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        let state: GuardedState = load_state("pcdarts", state)?;
        // The host restored the supernet with the options it was rebuilt with.
        self.search.load(ctx, &state.params)?;
        let on = self.edge_normalization;
        self.search
            .params_mut("load_state")?
            .set_edge_normalization(on);
        self.stopped = state.stopped;
        Ok(())
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        self.search.export(ctx)
    }
}

archon_plugin_api::export_plugin! {
    name: "pcdarts",
    version: env!("CARGO_PKG_VERSION"),
    description: "PC-DARTS: partial channel connections and edge normalisation (first order)",
    options: PcDartsOptions,
    one_shot_trainer: PcDarts,
}

#[cfg(test)]
mod tests {
    use super::*;
    use archon_plugin_api::{conformance::check_trainer, OneShotClient};

    #[test]
    fn passes_the_conformance_kit() {
        let report = check_trainer(&|options: &str| OneShotClient::in_process::<PcDarts>(options));
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn bad_options_are_refused_by_name() {
        for (options, key) in [
            (r#"{"partial_channels": 0}"#, "partial_channels"),
            (r#"{"partial_channels": 100}"#, "partial_channels"),
            (r#"{"warmup_epochs": -1}"#, "warmup_epochs"),
            (r#"{"edge_normalisation": true}"#, "edge_normalisation"),
        ] {
            let err = OneShotClient::in_process::<PcDarts>(options)
                .err()
                .unwrap_or_else(|| panic!("{options} accepted"));
            assert!(err.to_string().contains(key), "{options}: {err}");
        }
    }
}
