//! CDARTS (Yu et al., "Cyclic Differentiable Architecture Search", TPAMI 2022) as an
//! archon one-shot plugin, with NNI's defaults.
//!
//! Two networks: the search network (the host's supernet, softmax mixtures over α) and
//! an evaluation network (a second supernet of the space, `eval_options` such as more
//! cells, fixed each epoch to the architecture derived from α). The first
//! `warmup_epochs` (2) train only the search network's weights. After that, each epoch
//! first trains the evaluation network alone for an epoch, then runs the cycle per step:
//! (1) on a validation batch, α and the evaluation network's weights minimise
//! `(CE_search + CE_eval) / loss_alpha + loss_alpha · T² · KL(search/T ‖ eval/T)` plus an
//! L1 penalty on α of the parameter-free candidates other than zero (by role: pooling,
//! skip-connects; NNI's list also names dilated convolutions, which no role singles
//! out) whose weight
//! `regular_coeff` (5) decays linearly to 0 over `regular_ratio` (0.667) of the joint
//! epochs; (2) on a training batch, the search network's weights minimise its CE.
//! α: Adam 3e-4, betas (0.5, 0.999), weight decay 1e-3. Export and collapse guard as
//! DARTS.
//!
//! Options: `eval_options` (a table of space options), `warmup_epochs`, `loss_alpha`,
//! `temperature` (T, 2), `regular_coeff`, `regular_ratio`, `arch_lr`, `arch_beta1`,
//! `arch_beta2`, `arch_weight_decay`, `max_skip`, `stop_at_skip`, `seed`.

use archon_plugin_api::{
    one_shot::{
        CandidateRole, NetId, NetworkSpec, OneShotTrainer, Split, SupernetContext, SUPERNET,
    },
    plugin_options,
    serde_json::{Map, Value},
    tch::{Kind, Tensor},
    OptionSet, Options, PluginError, Result,
};
use archon_plugin_support::{
    load_state,
    one_shot::{
        accuracy, apply_architecture, cross_entropy, report_step, train_step, weight_step,
        ArchOptions, ArchParams, ArchSearch, GuardOptions, Mixture, StepMeter,
    },
    save_state,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

plugin_options! {
    /// CDARTS's options (NNI's defaults).
    pub struct CdartsOptions {
        /// Space options of the evaluation network (e.g. more cells).
        pub eval_options: Map<String, Value> = Map::new(),
        /// Epochs that train only the search network's weights.
        pub warmup_epochs: usize = 2,
        /// Balance of the classification and the interactive (KL) loss.
        pub loss_alpha: f64 = 1.0,
        /// Temperature T of the interactive KL loss.
        pub temperature: f64 = 2.0,
        /// Initial weight of the L1 penalty on parameter-free candidates' α.
        pub regular_coeff: f64 = 5.0,
        /// Fraction of the joint epochs over which the L1 weight decays to 0.
        pub regular_ratio: f64 = 0.667,
        /// Accepted for every trainer (the host passes `search.seed`).
        pub seed: Option<u64> = None,
        #[flatten]
        pub arch: ArchOptions = ArchOptions::default(),
        #[flatten]
        pub guard: GuardOptions = GuardOptions::default(),
    }
}

/// The CDARTS trainer.
pub struct Cdarts {
    eval_options: Map<String, Value>,
    warmup_epochs: usize,
    loss_alpha: f64,
    temperature: f64,
    regular_coeff: f64,
    regular_ratio: f64,
    search: ArchSearch,
    eval_net: Option<NetId>,
}

/// What CDARTS saves.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// α.
    params: Value,
    /// The evaluation network's handle (the host restores it under the same one).
    eval_net: NetId,
}

/// KL(p_teacher ‖ p_student) at temperature `t`, averaged over all entries (PyTorch's
/// `KLDivLoss()` default, as NNI's CDARTS uses it).
pub fn interactive_kl(student: &Tensor, teacher: &Tensor, t: f64) -> Tensor {
    let log_s = (student / t).log_softmax(1, Kind::Float);
    let log_t = (teacher / t).log_softmax(1, Kind::Float);
    (log_t.exp() * (&log_t - log_s)).mean(Kind::Float)
}

/// The L1 weight of `epoch`: `coeff` decaying linearly to 0 over `ratio` of the joint
/// epochs after the warm-up.
pub fn regular_decay(coeff: f64, ratio: f64, epoch: usize, warmup: usize, epochs: usize) -> f64 {
    let joint = epochs.saturating_sub(warmup).max(1) as f64;
    (coeff * (1.0 - epoch.saturating_sub(warmup) as f64 / (joint * ratio))).max(0.0)
}

/// Candidates the L1 term pulls down: the parameter-free ones other than zero
/// (pooling, skip-connects), which a short search favours because they converge first.
fn regularised(role: CandidateRole) -> bool {
    role.is_parameter_free() && role != CandidateRole::Zero
}

impl Cdarts {
    fn l1_penalty(params: &ArchParams) -> Option<Tensor> {
        let mut terms = Vec::new();
        for (k, c) in params.choices().iter().enumerate() {
            if !params.mixes(k) {
                continue;
            }
            let idx: Vec<i64> = params
                .active(k)
                .iter()
                .filter(|&&i| regularised(c.role(i)))
                .map(|&i| i as i64)
                .collect();
            if idx.is_empty() {
                continue;
            }
            let alpha = &params.parameters()[k];
            let idx = Tensor::from_slice(&idx).to_device(alpha.device());
            terms.push(alpha.index_select(0, &idx).abs().sum(Kind::Float));
        }
        terms.into_iter().reduce(|a, b| a + b)
    }
}

impl OneShotTrainer for Cdarts {
    fn new(options: &Options) -> Result<Self> {
        let o = CdartsOptions::from_options(options, "cdarts")?;
        let positive = |key: &str, v: f64| -> Result<f64> {
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(PluginError::invalid_input(format!(
                    "option {key}: {v} must be > 0"
                )))
            }
        };
        if !(o.regular_coeff >= 0.0 && o.regular_coeff.is_finite()) {
            return Err(PluginError::invalid_input(format!(
                "option regular_coeff: {} must be ≥ 0",
                o.regular_coeff
            )));
        }
        Ok(Cdarts {
            warmup_epochs: o.warmup_epochs,
            loss_alpha: positive("loss_alpha", o.loss_alpha)?,
            temperature: positive("temperature", o.temperature)?,
            regular_coeff: o.regular_coeff,
            regular_ratio: positive("regular_ratio", o.regular_ratio)?,
            search: ArchSearch::new(o.arch.optim()?, o.guard.guard()?),
            eval_options: o.eval_options,
            eval_net: None,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.search.begin(ctx)?;
        self.eval_net = Some(ctx.build_network(&NetworkSpec {
            architecture: None,
            options: self.eval_options.clone(),
        })?);
        Ok(())
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let (steps, epochs) = {
            let info = ctx.info()?;
            (info.steps_per_epoch, info.epochs)
        };
        let eval_net = self
            .eval_net
            .ok_or_else(|| PluginError::invalid_state("epoch before begin"))?;
        let (guard, alpha_w, t) = (self.search.guard(), self.loss_alpha, self.temperature);
        let reg = regular_decay(
            self.regular_coeff,
            self.regular_ratio,
            epoch,
            self.warmup_epochs,
            epochs,
        );
        let params = self.search.params_mut("epoch")?;
        let mut meter = StepMeter::default();
        let joint = epoch >= self.warmup_epochs;
        if joint {
            // The evaluation network follows the current architecture; a warm-up epoch
            // on its own first.
            let derived = params.derive(&guard)?;
            apply_architecture(ctx, eval_net, &derived.architecture)?;
            for _ in 0..steps {
                let train = ctx.next_batch(Split::Train)?;
                let (loss, acc) = train_step(ctx, eval_net, &train)?;
                meter.add("eval_loss", loss);
                meter.add("eval_accuracy", acc);
            }
        }
        for step in 0..steps {
            let mut metrics = Vec::with_capacity(6);
            if joint {
                let valid = ctx.next_batch(Split::Valid)?;
                params.apply(ctx, SUPERNET, Mixture::Softmax { grad: true })?;
                let search = ctx.forward(SUPERNET, &valid.inputs)?;
                let eval = ctx.forward(eval_net, &valid.inputs)?;
                let cls = (cross_entropy(&search, &valid.labels)
                    + cross_entropy(&eval, &valid.labels))
                    / alpha_w;
                let kl = interactive_kl(&search, &eval, t) * (t * t * alpha_w);
                let mut loss = &cls + &kl;
                if reg > 0.0 {
                    if let Some(l1) = Self::l1_penalty(params) {
                        loss += l1 * reg;
                    }
                }
                params.zero_grad();
                ctx.zero_grad(eval_net)?;
                loss.backward();
                ctx.weight_step(eval_net)?;
                params.step();
                metrics.extend([
                    ("valid_loss", cls.double_value(&[])),
                    ("valid_accuracy", accuracy(&search, &valid.labels)),
                    ("interactive_loss", kl.double_value(&[])),
                ]);
            }
            let train = ctx.next_batch(Split::Train)?;
            let (loss, acc) = weight_step(
                ctx,
                SUPERNET,
                params,
                Mixture::Softmax { grad: false },
                &train,
            )?;
            metrics.extend([("loss", loss), ("accuracy", acc)]);
            report_step(ctx, &mut meter, (epoch, step), &metrics)?;
        }
        let extra = BTreeMap::from([
            ("joint".to_string(), f64::from(u8::from(joint))),
            ("regular_decay".to_string(), reg),
        ]);
        self.search.finish_epoch(ctx, epoch, &meter, extra)?;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&State {
            params: self.search.state()?,
            eval_net: self
                .eval_net
                .ok_or_else(|| PluginError::invalid_state("save_state before begin"))?,
        })
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        let state: State = load_state("cdarts", state)?;
        self.search.load(ctx, &state.params)?;
        // The host restored the evaluation network under its old handle.
        self.eval_net = Some(state.eval_net);
        Ok(())
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        self.search.export(ctx)
    }
}

archon_plugin_api::export_plugin! {
    name: "cdarts",
    version: env!("CARGO_PKG_VERSION"),
    description: "CDARTS: search and evaluation networks trained in a cycle with KL distillation",
    options: CdartsOptions,
    one_shot_trainer: Cdarts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_l1_weight_decays_to_zero_after_the_warm_up() {
        assert_eq!(regular_decay(5.0, 0.5, 0, 2, 10), 5.0);
        assert_eq!(regular_decay(5.0, 0.5, 2, 2, 10), 5.0);
        assert!((regular_decay(5.0, 0.5, 4, 2, 10) - 2.5).abs() < 1e-12);
        assert_eq!(regular_decay(5.0, 0.5, 9, 2, 10), 0.0);
    }

    #[test]
    fn the_interactive_loss_is_zero_for_equal_logits_and_positive_otherwise() {
        let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 0.5, 0.1, 0.2]).reshape([2, 3]);
        let b = Tensor::from_slice(&[3.0f32, 2.0, 1.0, 0.1, 0.5, 0.2]).reshape([2, 3]);
        assert!(interactive_kl(&a, &a, 2.0).double_value(&[]).abs() < 1e-7);
        assert!(interactive_kl(&a, &b, 2.0).double_value(&[]) > 1e-3);
    }
}
