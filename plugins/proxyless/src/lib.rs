//! ProxylessNAS (Cai et al., "ProxylessNAS: Direct Neural Architecture Search on Target
//! Task and Hardware", ICLR 2019) as an archon one-shot plugin.
//!
//! Weights train on one path per batch sampled from softmax(α) (binary gates, one open).
//! Every `arch_update_every` (5) weight steps, α learns on a validation batch by
//! **two-path sampling**: per choice two candidates are drawn from softmax(α), one
//! gate of the pair opens (by the pair's renormalised probabilities), both paths run
//! weighted by the gates, and ∂L/∂α_i = Σ_j ∂L/∂g_j · p_j (δ_ij − p_i) over the pair.
//! The hardware loss uses the latency table the host measures on the search device
//! (cached on disk): E[LAT] = reference + Σ_choices Σ_i softmax(α)_i · lat_i, either
//! additive `CE + λ · E[LAT] / target` or multiplicative
//! `α_m · CE · (log E[LAT] / log target)^β`. α: Adam (`arch_lr` 1e-3, betas (0, 0.999)).
//! Export: the strongest candidate per choice (as DARTS).
//!
//! Options: `latency_loss` (`"additive"`, `"multiplicative"` or `"none"`),
//! `latency_weight` (λ, 0.1), `latency_target` (ms; default the reference child's
//! latency), `mul_alpha` (0.2), `mul_beta` (0.3), `arch_update_every`, `warmup_epochs`
//! (0), `arch_lr`, `arch_beta1`, `arch_beta2`, `arch_weight_decay` (0), `seed`.

mod gates;

use archon_plugin_api::{
    one_shot::{CostTable, OneShotTrainer, Split, SupernetContext, SUPERNET},
    option_enum, plugin_options,
    serde_json::Value,
    OptionSet, Options, PluginError, Result,
};
use archon_plugin_support::{
    load_state,
    one_shot::{report_step, ArchOptions, ArchSearch, CollapseGuard, StepMeter},
    save_state, SeededRng,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

option_enum! {
    /// Which hardware-aware loss the architecture steps minimise.
    pub enum LatencyLossKind {
        /// `CE + λ · E[LAT] / target`.
        Additive = "additive",
        /// `α · CE · (log E[LAT] / log target)^β`.
        Multiplicative = "multiplicative",
        /// Cross-entropy only.
        None = "none",
    }
}

plugin_options! {
    /// ProxylessNAS's options.
    pub struct ProxylessOptions {
        /// The hardware-aware loss.
        pub latency_loss: LatencyLossKind = LatencyLossKind::Additive,
        /// λ of the additive latency loss.
        pub latency_weight: f64 = 0.1,
        /// Target latency in ms (default: the reference child's measured latency).
        pub latency_target: Option<f64> = None,
        /// α of the multiplicative latency loss.
        pub mul_alpha: f64 = 0.2,
        /// β of the multiplicative latency loss.
        pub mul_beta: f64 = 0.3,
        /// Weight steps per architecture step.
        pub arch_update_every: usize = 5,
        /// Epochs that train only the weights.
        pub warmup_epochs: usize = 0,
        /// The seed of the path sampling (the host passes `search.seed`).
        pub seed: Option<u64> = None,
        #[flatten]
        pub arch: ArchOptions = ArchOptions {
            arch_lr: 1e-3,
            arch_beta1: 0.0,
            arch_weight_decay: 0.0,
            ..ArchOptions::default()
        },
    }
}

/// The hardware-aware loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatencyLoss {
    /// Cross-entropy only.
    None,
    /// `CE + λ · E[LAT] / target`.
    Additive {
        /// λ.
        weight: f64,
    },
    /// `α · CE · (log E[LAT] / log target)^β`.
    Multiplicative {
        /// α.
        alpha: f64,
        /// β.
        beta: f64,
    },
}

/// The ProxylessNAS trainer.
pub struct Proxyless {
    loss: LatencyLoss,
    target: Option<f64>,
    every: usize,
    warmup_epochs: usize,
    rng: SeededRng,
    search: ArchSearch,
    costs: Option<CostTable>,
    weight_steps: usize,
}

/// What ProxylessNAS saves.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// α.
    params: Value,
    /// The generator of paths and gates.
    rng: SeededRng,
    /// Weight steps so far (architecture steps come every `arch_update_every`).
    weight_steps: usize,
}

impl Proxyless {
    /// The cost table the latency loss needs (measured by the host, cached on disk).
    fn measure_costs(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        if self.loss != LatencyLoss::None {
            self.costs = Some(ctx.costs(SUPERNET)?);
        }
        Ok(())
    }
}

impl OneShotTrainer for Proxyless {
    fn new(options: &Options) -> Result<Self> {
        let o = ProxylessOptions::from_options(options, "proxyless")?;
        let loss = match o.latency_loss {
            LatencyLossKind::Additive => LatencyLoss::Additive {
                weight: o.latency_weight,
            },
            LatencyLossKind::Multiplicative => LatencyLoss::Multiplicative {
                alpha: o.mul_alpha,
                beta: o.mul_beta,
            },
            LatencyLossKind::None => LatencyLoss::None,
        };
        if !(o.latency_weight >= 0.0 && o.latency_weight.is_finite()) {
            return Err(PluginError::invalid_input(format!(
                "option latency_weight: {} must be ≥ 0",
                o.latency_weight
            )));
        }
        if o.latency_target.is_some_and(|t| t <= 0.0) {
            return Err(PluginError::invalid_input(
                "option latency_target must be > 0 ms",
            ));
        }
        if o.arch_update_every == 0 {
            return Err(PluginError::invalid_input(
                "option arch_update_every must be ≥ 1",
            ));
        }
        Ok(Proxyless {
            loss,
            target: o.latency_target,
            every: o.arch_update_every,
            warmup_epochs: o.warmup_epochs,
            rng: SeededRng::from_seed(o.seed),
            search: ArchSearch::new(o.arch.optim()?, CollapseGuard::default()),
            costs: None,
            weight_steps: 0,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.search.begin(ctx)?;
        self.measure_costs(ctx)
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let steps = ctx.info()?.steps_per_epoch;
        let train_arch = epoch >= self.warmup_epochs;
        let params = self.search.params_mut("epoch")?;
        let latency = gates::LatencyModel::new(self.costs.as_ref(), params, self.target, self.loss);
        let mut meter = StepMeter::default();
        for step in 0..steps {
            let (loss, acc) = gates::weight_step(ctx, params, &mut self.rng)?;
            self.weight_steps += 1;
            let mut metrics = vec![("loss", loss), ("accuracy", acc)];
            if train_arch && self.weight_steps.is_multiple_of(self.every) {
                let valid = ctx.next_batch(Split::Valid)?;
                let (l, a) = gates::arch_step(ctx, params, &latency, &mut self.rng, &valid)?;
                metrics.extend([("valid_loss", l), ("valid_accuracy", a)]);
            }
            report_step(ctx, &mut meter, (epoch, step), &metrics)?;
        }
        let mut extra = BTreeMap::new();
        if let Some(lat) = latency.expected(params) {
            extra.insert("expected_latency_ms".to_string(), lat);
        }
        self.search.finish_epoch(ctx, epoch, &meter, extra)?;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&State {
            params: self.search.state()?,
            rng: self.rng.clone(),
            weight_steps: self.weight_steps,
        })
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        let state: State = load_state("proxyless", state)?;
        self.search.load(ctx, &state.params)?;
        self.measure_costs(ctx)?;
        self.rng = state.rng;
        self.weight_steps = state.weight_steps;
        Ok(())
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        self.search.export(ctx)
    }
}

archon_plugin_api::export_plugin! {
    name: "proxyless",
    version: env!("CARGO_PKG_VERSION"),
    description: "ProxylessNAS: binary gates, two-path gradient estimator, measured-latency loss",
    options: ProxylessOptions,
    one_shot_trainer: Proxyless,
}
