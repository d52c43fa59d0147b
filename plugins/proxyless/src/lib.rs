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
    serde_json::Value,
    Options, PluginError, Result,
};
use archon_plugin_support::{
    one_shot::{
        finish_epoch, report_step, started, started_mut, ArchOptim, ArchParams, CollapseGuard,
        StepMeter,
    },
    SeededRng,
};
use std::collections::BTreeMap;

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
    optim: ArchOptim,
    rng: SeededRng,
    params: Option<ArchParams>,
    costs: Option<CostTable>,
    weight_steps: usize,
}

impl OneShotTrainer for Proxyless {
    fn new(options: &Options) -> Result<Self> {
        let mut known = vec![
            "latency_loss",
            "latency_weight",
            "latency_target",
            "mul_alpha",
            "mul_beta",
            "arch_update_every",
            "warmup_epochs",
            "seed",
        ];
        known.extend(ArchOptim::KEYS);
        options.deny_unknown("proxyless", &known)?;
        let weight = options.f64("latency_weight")?.unwrap_or(0.1);
        let loss = match options
            .one_of("latency_loss", &["additive", "multiplicative", "none"])?
            .as_deref()
        {
            None | Some("additive") => LatencyLoss::Additive { weight },
            Some("multiplicative") => LatencyLoss::Multiplicative {
                alpha: options.f64("mul_alpha")?.unwrap_or(0.2),
                beta: options.f64("mul_beta")?.unwrap_or(0.3),
            },
            Some(_) => LatencyLoss::None,
        };
        if !(weight >= 0.0 && weight.is_finite()) {
            return Err(PluginError::invalid_input(format!(
                "option latency_weight: {weight} must be ≥ 0"
            )));
        }
        let target = options.f64("latency_target")?;
        if target.is_some_and(|t| t <= 0.0) {
            return Err(PluginError::invalid_input(
                "option latency_target must be > 0 ms",
            ));
        }
        let every = options.u64("arch_update_every")?.unwrap_or(5) as usize;
        if every == 0 {
            return Err(PluginError::invalid_input(
                "option arch_update_every must be ≥ 1",
            ));
        }
        let mut optim = ArchOptim::from_options(options)?;
        if options.f64("arch_lr")?.is_none() {
            optim.lr = 1e-3;
        }
        if options.f64("arch_beta1")?.is_none() {
            optim.beta1 = 0.0;
        }
        if options.f64("arch_weight_decay")?.is_none() {
            optim.weight_decay = 0.0;
        }
        Ok(Proxyless {
            loss,
            target,
            every,
            warmup_epochs: options.u64("warmup_epochs")?.unwrap_or(0) as usize,
            optim,
            rng: SeededRng::from_options(options)?,
            params: None,
            costs: None,
            weight_steps: 0,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.params = Some(ArchParams::for_search(ctx, self.optim)?);
        if self.loss != LatencyLoss::None {
            self.costs = Some(ctx.costs(SUPERNET)?);
        }
        Ok(())
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let steps = ctx.info()?.steps_per_epoch;
        let train_arch = epoch >= self.warmup_epochs;
        let params = started_mut(&mut self.params, "epoch")?;
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
        finish_epoch(ctx, epoch, &meter, params, &CollapseGuard::default(), extra)?;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        let params = started(&self.params, "save_state")?;
        Ok(archon_plugin_api::serde_json::json!({
            "params": params.state(),
            "rng": archon_plugin_api::serde_json::to_value(&self.rng).map_err(|e| PluginError::internal(e.to_string()))?,
            "weight_steps": self.weight_steps,
        }))
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        self.begin(ctx)?;
        if let Some(p) = self.params.as_mut() {
            p.load(&state["params"])?;
        }
        self.rng = archon_plugin_api::serde_json::from_value(state["rng"].clone())
            .map_err(|e| PluginError::invalid_input(format!("proxyless state: rng: {e}")))?;
        self.weight_steps = state["weight_steps"].as_u64().unwrap_or(0) as usize;
        Ok(())
    }

    fn export(&mut self, _ctx: &mut SupernetContext<'_>) -> Result<Value> {
        Ok(started(&self.params, "export")?
            .derive(&CollapseGuard::default())?
            .architecture)
    }
}

archon_plugin_api::export_plugin! {
    name: "proxyless",
    version: env!("CARGO_PKG_VERSION"),
    description: "ProxylessNAS: binary gates, two-path gradient estimator, measured-latency loss",
    one_shot_trainer: Proxyless,
}
