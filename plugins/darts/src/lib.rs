//! DARTS (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019) as an
//! archon one-shot plugin.
//!
//! Every choice becomes a softmax mixture over its candidates; architecture weights α
//! (Adam 3e-4, betas (0.5, 0.999), weight decay 1e-3) are trained on the validation
//! split and the supernet's weights (the host's SGD) on the training split, step by
//! step. `order = 2` uses the paper's second-order approximation with the
//! finite-difference Hessian-vector product (NNI 3.0 has only first order); its weight
//! step reuses the virtual step's gradient unless `reuse_gradient = false`. The
//! genotype keeps, per node, the two strongest incoming edges with their strongest
//! operation other than `none`. The collapse guard reports skip-connects per cell and
//! can cap them (`max_skip`) or stop the search (`stop_at_skip`).
//!
//! Options: `order` (1|2, default 1), `reuse_gradient` (true), `arch_lr`, `arch_beta1`, `arch_beta2`,
//! `arch_weight_decay`, `weight_decay` (λ of the virtual step, default 3e-4, as the
//! host's weight decay), `max_skip`, `stop_at_skip`, `seed`.

use archon_plugin_api::{
    one_shot::{OneShotTrainer, Split, SupernetContext, SUPERNET},
    plugin_options,
    serde_json::Value,
    OptionSet, Options, PluginError, Result,
};
use archon_plugin_support::{
    load_state,
    one_shot::{
        first_order_steps, report_step, second_order_steps, ArchOptions, ArchSearch, GuardOptions,
        GuardedState, StepMeter,
    },
    save_state,
};
use std::collections::BTreeMap;

plugin_options! {
    /// DARTS's options.
    pub struct DartsOptions {
        /// 1: first-order DARTS; 2: the paper's second-order approximation.
        pub order: u64 = 1,
        /// λ of the second-order virtual step (as the host's weight decay).
        pub weight_decay: f64 = 3e-4,
        /// Second order: the weight step applies the virtual step's gradient (same
        /// batch, same weights, α before its step) instead of a fresh forward and
        /// backward — 4 passes per step instead of 5.
        pub reuse_gradient: bool = true,
        /// Accepted for every trainer (the host passes `search.seed`).
        pub seed: Option<u64> = None,
        #[flatten]
        pub arch: ArchOptions = ArchOptions::default(),
        #[flatten]
        pub guard: GuardOptions = GuardOptions::default(),
    }
}

/// The DARTS trainer.
pub struct Darts {
    order: u8,
    weight_decay: f64,
    reuse_gradient: bool,
    search: ArchSearch,
    stopped: bool,
}

impl OneShotTrainer for Darts {
    fn new(options: &Options) -> Result<Self> {
        let o = DartsOptions::from_options(options, "darts")?;
        let order = match o.order {
            o @ (1 | 2) => o as u8,
            o => {
                return Err(PluginError::invalid_input(format!(
                    "option order: {o} (DARTS has first (1) and second (2) order)"
                )))
            }
        };
        if !(o.weight_decay >= 0.0 && o.weight_decay.is_finite()) {
            return Err(PluginError::invalid_input(format!(
                "option weight_decay: {} must be ≥ 0",
                o.weight_decay
            )));
        }
        Ok(Darts {
            order,
            weight_decay: o.weight_decay,
            reuse_gradient: o.reuse_gradient,
            search: ArchSearch::new(o.arch.optim()?, o.guard.guard()?),
            stopped: false,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.search.begin(ctx)
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let steps = ctx.info()?.steps_per_epoch;
        let (order, weight_decay, reuse) = (self.order, self.weight_decay, self.reuse_gradient);
        let stopped = self.stopped;
        let params = self.search.params_mut("epoch")?;
        let mut meter = StepMeter::default();
        if !stopped {
            for step in 0..steps {
                let valid = ctx.next_batch(Split::Valid)?;
                let train = ctx.next_batch(Split::Train)?;
                let [(arch_loss, arch_acc), (loss, acc)] = if order == 2 {
                    second_order_steps(ctx, SUPERNET, params, &train, &valid, weight_decay, reuse)?
                } else {
                    first_order_steps(ctx, SUPERNET, params, &train, &valid)?
                };
                report_step(
                    ctx,
                    &mut meter,
                    (epoch, step),
                    &[
                        ("loss", loss),
                        ("accuracy", acc),
                        ("valid_loss", arch_loss),
                        ("valid_accuracy", arch_acc),
                    ],
                )?;
            }
        }
        let extra = BTreeMap::from([("stopped".to_string(), f64::from(u8::from(stopped)))]);
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
        let state: GuardedState = load_state("darts", state)?;
        self.search.load(ctx, &state.params)?;
        self.stopped = state.stopped;
        Ok(())
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        self.search.export(ctx)
    }
}

archon_plugin_api::export_plugin! {
    name: "darts",
    version: env!("CARGO_PKG_VERSION"),
    description: "DARTS: softmax mixtures, first or second order, genotype export, collapse guard",
    options: DartsOptions,
    one_shot_trainer: Darts,
}
