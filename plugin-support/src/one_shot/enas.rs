//! The ENAS search loop (Pham et al. 2018), shared by the `enas` and `textnas`
//! plugins: per epoch, shared-weight training of one sampled child per batch (`Fixed`
//! settings, a new sample every batch), then `ctrl_steps` controller samples, each
//! rewarded with its accuracy on one validation batch (REINFORCE, see
//! [`Controller`]). Export: the controller's most likely architecture, or the best of
//! `export_samples` sampled ones by validation accuracy.

use super::{
    accuracy, apply_architecture, cross_entropy, report_step, Controller, ControllerConfig,
    StepMeter,
};
use crate::SeededRng;
use archon_plugin_api::{
    one_shot::{OneShotTrainer, Report, Split, SupernetContext, SUPERNET},
    serde_json::{self, Value},
    tch, Architecture, Options, PluginError, Result, SearchSpace,
};
use std::{collections::BTreeMap, marker::PhantomData};

/// What distinguishes one ENAS-based plugin from another: its name and defaults.
pub trait EnasFlavour: Send + 'static {
    /// The plugin's name (for messages).
    const NAME: &'static str;
    /// The controller's defaults; `cell_space` says whether the space is a cell space
    /// (ENAS micro: decisions labelled `normal_…`/`reduce_…`).
    fn defaults(cell_space: bool) -> ControllerConfig;
}

/// An ENAS trainer with the defaults of `F`.
pub struct EnasTrainer<F> {
    options: Options,
    ctrl_steps: usize,
    export_samples: usize,
    rng: SeededRng,
    controller: Option<Controller>,
    _flavour: PhantomData<F>,
}

impl<F: EnasFlavour> EnasTrainer<F> {
    fn controller(&mut self) -> Result<&mut Controller> {
        self.controller
            .as_mut()
            .ok_or_else(|| PluginError::invalid_state("epoch before begin"))
    }

    fn to_json(
        space: &SearchSpace,
        selections: Vec<archon_plugin_api::Selection>,
    ) -> Result<Value> {
        Ok(Architecture::new(space, selections)?.to_json(space))
    }
}

impl<F: EnasFlavour> OneShotTrainer for EnasTrainer<F> {
    fn new(options: &Options) -> Result<Self> {
        let mut known = vec!["ctrl_steps", "export_samples", "seed"];
        known.extend(ControllerConfig::KEYS);
        options.deny_unknown(F::NAME, &known)?;
        // Checked now so that bad values are refused before the search starts.
        ControllerConfig::from_options(options, F::defaults(false))?;
        Ok(EnasTrainer {
            options: options.clone(),
            ctrl_steps: options.u64("ctrl_steps")?.unwrap_or(50) as usize,
            export_samples: options.u64("export_samples")?.unwrap_or(0) as usize,
            rng: SeededRng::from_options(options)?,
            controller: None,
            _flavour: PhantomData,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        let info = ctx.info()?.clone();
        let space = SearchSpace::from_json(&info.search_space)?;
        let cfg = ControllerConfig::from_options(&self.options, F::defaults(info.cell_based))?;
        self.controller = Some(Controller::new(space, cfg, &mut self.rng)?);
        Ok(())
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let steps = ctx.info()?.steps_per_epoch;
        let ctrl_steps = self.ctrl_steps;
        let mut rng = self.rng.clone();
        let controller = self.controller()?;
        let space = controller.space().clone();
        let mut meter = StepMeter::default();
        for step in 0..steps {
            let sample = tch::no_grad(|| controller.sample(&mut rng, false));
            apply_architecture(ctx, SUPERNET, &Self::to_json(&space, sample.selections)?)?;
            let batch = ctx.next_batch(Split::Train)?;
            ctx.zero_grad(SUPERNET)?;
            let logits = ctx.forward(SUPERNET, &batch.inputs)?;
            let loss = cross_entropy(&logits, &batch.labels);
            loss.backward();
            ctx.weight_step(SUPERNET)?;
            report_step(
                ctx,
                &mut meter,
                (epoch, step),
                &[
                    ("loss", loss.double_value(&[])),
                    ("accuracy", accuracy(&logits, &batch.labels)),
                ],
            )?;
        }
        for _ in 0..ctrl_steps {
            let sample = controller.sample(&mut rng, false);
            apply_architecture(
                ctx,
                SUPERNET,
                &Self::to_json(&space, sample.selections.clone())?,
            )?;
            let batch = ctx.next_batch(Split::Valid)?;
            let logits = tch::no_grad(|| ctx.forward(SUPERNET, &batch.inputs))?;
            let reward = accuracy(&logits, &batch.labels);
            meter.add("valid_accuracy", reward);
            meter.add("reward", controller.reinforce(sample, reward));
        }
        let greedy = tch::no_grad(|| controller.sample(&mut rng, true));
        let architecture = Self::to_json(&space, greedy.selections)?;
        let arch_weights = controller.probabilities();
        ctx.report(&Report::Epoch {
            epoch,
            metrics: meter.means().into_iter().collect::<BTreeMap<_, _>>(),
            arch_weights,
            architecture: Some(architecture),
        })?;
        self.rng = rng;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        let controller = self
            .controller
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("save_state before begin"))?;
        Ok(serde_json::json!({
            "controller": controller.state(),
            "rng": serde_json::to_value(&self.rng).map_err(|e| PluginError::internal(e.to_string()))?,
        }))
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        self.begin(ctx)?;
        self.controller()?.load(&state["controller"])?;
        self.rng = serde_json::from_value(state["rng"].clone())
            .map_err(|e| PluginError::invalid_input(format!("{} state: rng: {e}", F::NAME)))?;
        Ok(())
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        let samples = self.export_samples;
        let mut rng = self.rng.clone();
        let controller = self.controller()?;
        let space = controller.space().clone();
        let greedy = tch::no_grad(|| controller.sample(&mut rng, true));
        let mut best = Self::to_json(&space, greedy.selections)?;
        if samples > 0 {
            let mut best_accuracy = ctx.evaluate(SUPERNET, &best, 0, 0)?;
            for _ in 0..samples {
                let s = tch::no_grad(|| controller.sample(&mut rng, false));
                let arch = Self::to_json(&space, s.selections)?;
                let acc = ctx.evaluate(SUPERNET, &arch, 0, 0)?;
                if acc > best_accuracy {
                    (best, best_accuracy) = (arch, acc);
                }
            }
        }
        self.rng = rng;
        Ok(best)
    }
}
