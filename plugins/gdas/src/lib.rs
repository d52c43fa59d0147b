//! GDAS (Dong & Yang, "Searching for a Robust Neural Architecture in Four GPU Hours",
//! CVPR 2019) as an archon one-shot plugin.
//!
//! Each step draws one candidate per choice from the Gumbel-softmax of α and runs only
//! that candidate, weighted by the straight-through hard sample (value 1, the soft
//! sample's gradient), so a step costs about one child's forward pass. The
//! temperature anneals linearly from `tau_max` (10) to `tau_min` (0.1) over the
//! epochs. Weights train on the training split, α (Adam 3e-4, betas (0.5, 0.999),
//! weight decay 1e-3) on the validation split. Export and collapse guard as DARTS.
//!
//! Options: `tau_max`, `tau_min`, `arch_lr`, `arch_beta1`, `arch_beta2`,
//! `arch_weight_decay`, `max_skip`, `stop_at_skip`, `seed`.

use archon_plugin_api::{
    one_shot::{OneShotTrainer, Split, SupernetContext, SUPERNET},
    plugin_options,
    serde_json::Value,
    OptionSet, Options, PluginError, Result,
};
use archon_plugin_support::{
    load_state,
    one_shot::{
        arch_step_first_order, report_step, weight_step, ArchOptions, ArchSearch, GuardOptions,
        Mixture, StepMeter,
    },
    save_state,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

plugin_options! {
    /// GDAS's options.
    pub struct GdasOptions {
        /// Gumbel-softmax temperature of the first epoch.
        pub tau_max: f64 = 10.0,
        /// Temperature of the last epoch (annealed linearly from `tau_max`).
        pub tau_min: f64 = 0.1,
        /// Accepted for every trainer (the host passes `search.seed`).
        pub seed: Option<u64> = None,
        #[flatten]
        pub arch: ArchOptions = ArchOptions::default(),
        #[flatten]
        pub guard: GuardOptions = GuardOptions::default(),
    }
}

/// The GDAS trainer.
pub struct Gdas {
    tau_max: f64,
    tau_min: f64,
    search: ArchSearch,
}

/// What GDAS saves.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// α.
    params: Value,
}

/// The temperature of `epoch` of `epochs`: linear from `max` to `min`.
pub fn temperature(max: f64, min: f64, epoch: usize, epochs: usize) -> f64 {
    if epochs <= 1 {
        return max;
    }
    max - (max - min) * epoch as f64 / (epochs - 1) as f64
}

impl OneShotTrainer for Gdas {
    fn new(options: &Options) -> Result<Self> {
        let o = GdasOptions::from_options(options, "gdas")?;
        let (tau_max, tau_min) = (o.tau_max, o.tau_min);
        if !(tau_min > 0.0 && tau_max >= tau_min && tau_max.is_finite()) {
            return Err(PluginError::invalid_input(format!(
                "options tau_max {tau_max} / tau_min {tau_min}: need 0 < tau_min ≤ tau_max"
            )));
        }
        Ok(Gdas {
            tau_max,
            tau_min,
            search: ArchSearch::new(o.arch.optim()?, o.guard.guard()?),
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.search.begin(ctx)
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let (steps, epochs) = {
            let info = ctx.info()?;
            (info.steps_per_epoch, info.epochs)
        };
        let tau = temperature(self.tau_max, self.tau_min, epoch, epochs);
        let params = self.search.params_mut("epoch")?;
        let mut meter = StepMeter::default();
        let mixture = Mixture::Gumbel { tau };
        for step in 0..steps {
            let train = ctx.next_batch(Split::Train)?;
            let (loss, acc) = weight_step(ctx, SUPERNET, params, mixture, &train)?;
            let valid = ctx.next_batch(Split::Valid)?;
            let (arch_loss, arch_acc) =
                arch_step_first_order(ctx, SUPERNET, params, mixture, &valid)?;
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
        let extra = BTreeMap::from([("tau".to_string(), tau)]);
        self.search.finish_epoch(ctx, epoch, &meter, extra)?;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&State {
            params: self.search.state()?,
        })
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        let state: State = load_state("gdas", state)?;
        self.search.load(ctx, &state.params)
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        self.search.export(ctx)
    }
}

archon_plugin_api::export_plugin! {
    name: "gdas",
    version: env!("CARGO_PKG_VERSION"),
    description: "GDAS: Gumbel-softmax single-path sampling with temperature annealing",
    options: GdasOptions,
    one_shot_trainer: Gdas,
}

#[cfg(test)]
mod tests {
    use super::temperature;

    #[test]
    fn the_temperature_anneals_from_max_to_min() {
        assert_eq!(temperature(10.0, 0.1, 0, 5), 10.0);
        assert!((temperature(10.0, 0.1, 4, 5) - 0.1).abs() < 1e-12);
        assert!(temperature(10.0, 0.1, 2, 5) < 10.0 && temperature(10.0, 0.1, 2, 5) > 0.1);
    }
}
