//! DARTS (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019) as an
//! archon one-shot plugin.
//!
//! Every choice becomes a softmax mixture over its candidates; architecture weights α
//! (Adam 3e-4, betas (0.5, 0.999), weight decay 1e-3) are trained on the validation
//! split and the supernet's weights (the host's SGD) on the training split, step by
//! step. `order = 2` uses the paper's second-order approximation with the
//! finite-difference Hessian-vector product (NNI 3.0 has only first order). The
//! genotype keeps, per node, the two strongest incoming edges with their strongest
//! operation other than `none`. The collapse guard reports skip-connects per cell and
//! can cap them (`max_skip`) or stop the search (`stop_at_skip`).
//!
//! Options: `order` (1|2, default 1), `arch_lr`, `arch_beta1`, `arch_beta2`,
//! `arch_weight_decay`, `weight_decay` (λ of the virtual step, default 3e-4, as the
//! host's weight decay), `max_skip`, `stop_at_skip`, `seed`.

use archon_plugin_api::{
    one_shot::{OneShotTrainer, Split, SupernetContext, SUPERNET},
    serde_json::{json, Value},
    Options, PluginError, Result,
};
use archon_plugin_support::one_shot::{
    arch_step_first_order, arch_step_second_order, finish_epoch, report_step, started, started_mut,
    weight_step, ArchOptim, ArchParams, CollapseGuard, Mixture, StepMeter,
};
use std::collections::BTreeMap;

/// The DARTS trainer.
pub struct Darts {
    order: u8,
    optim: ArchOptim,
    guard: CollapseGuard,
    weight_decay: f64,
    params: Option<ArchParams>,
    stopped: bool,
}

impl OneShotTrainer for Darts {
    fn new(options: &Options) -> Result<Self> {
        let mut known = vec!["order", "weight_decay", "seed"];
        known.extend(ArchOptim::KEYS);
        known.extend(CollapseGuard::KEYS);
        options.deny_unknown("darts", &known)?;
        let order = match options.u64("order")?.unwrap_or(1) {
            o @ (1 | 2) => o as u8,
            o => {
                return Err(PluginError::invalid_input(format!(
                    "option order: {o} (DARTS has first (1) and second (2) order)"
                )))
            }
        };
        let weight_decay = options.f64("weight_decay")?.unwrap_or(3e-4);
        if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
            return Err(PluginError::invalid_input(format!(
                "option weight_decay: {weight_decay} must be ≥ 0"
            )));
        }
        Ok(Darts {
            order,
            optim: ArchOptim::from_options(options)?,
            guard: CollapseGuard::from_options(options)?,
            weight_decay,
            params: None,
            stopped: false,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.params = Some(ArchParams::for_search(ctx, self.optim)?);
        Ok(())
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let steps = ctx.info()?.steps_per_epoch;
        let (order, weight_decay, guard) = (self.order, self.weight_decay, self.guard);
        let stopped = self.stopped;
        let params = started_mut(&mut self.params, "epoch")?;
        let mut meter = StepMeter::default();
        if !stopped {
            for step in 0..steps {
                let valid = ctx.next_batch(Split::Valid)?;
                let train = ctx.next_batch(Split::Train)?;
                let (arch_loss, arch_acc) = if order == 2 {
                    arch_step_second_order(ctx, SUPERNET, params, &train, &valid, weight_decay)?
                } else {
                    arch_step_first_order(
                        ctx,
                        SUPERNET,
                        params,
                        Mixture::Softmax { grad: true },
                        &valid,
                    )?
                };
                let (loss, acc) = weight_step(
                    ctx,
                    SUPERNET,
                    params,
                    Mixture::Softmax { grad: false },
                    &train,
                )?;
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
        let derived = finish_epoch(ctx, epoch, &meter, params, &guard, extra)?;
        self.stopped |= derived.collapsed;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        let params = started(&self.params, "save_state")?;
        Ok(json!({ "params": params.state(), "stopped": self.stopped }))
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        self.begin(ctx)?;
        started_mut(&mut self.params, "load_state")?.load(&state["params"])?;
        self.stopped = state["stopped"].as_bool().unwrap_or(false);
        Ok(())
    }

    fn export(&mut self, _ctx: &mut SupernetContext<'_>) -> Result<Value> {
        Ok(started(&self.params, "export")?
            .derive(&self.guard)?
            .architecture)
    }
}

archon_plugin_api::export_plugin! {
    name: "darts",
    version: env!("CARGO_PKG_VERSION"),
    description: "DARTS: softmax mixtures, first or second order, genotype export, collapse guard",
    one_shot_trainer: Darts,
}
