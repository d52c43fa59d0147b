//! The ENAS search loop (Pham et al. 2018), shared by the `enas` and `textnas`
//! plugins: per epoch, shared-weight training of one sampled child per batch (`Fixed`
//! settings, a new sample every batch), then `ctrl_steps` controller samples, each
//! rewarded with its accuracy on one validation batch (REINFORCE, see
//! [`Controller`]). Export: the controller's most likely architecture, or the best of
//! it and `export_samples` sampled ones by validation accuracy; under the search's
//! limits only candidates whose estimated costs fit take part.

use super::{
    accuracy, apply_selections, fit_within, report_step, train_step, Controller, EnasOptions,
    StepMeter,
};
use crate::{load_state, save_state, SeededRng};
use archon_plugin_api::{
    one_shot::{OneShotTrainer, Report, Split, SupernetContext, SUPERNET},
    serde_json::Value,
    tch, Architecture, OptionSet, Options, PluginError, Result, SearchSpace,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What distinguishes one ENAS-based plugin from another: its name, its options and
/// how they squash the controller's logits.
pub trait EnasFlavour: Send + 'static {
    /// The plugin's name (for messages).
    const NAME: &'static str;
    /// The plugin's options: [`EnasOptions`] flattened into them, plus the squashing
    /// of the controller's logits with the plugin's own defaults.
    type Options: OptionSet + Send + 'static;
    /// The options every ENAS-based trainer shares.
    fn shared(options: &Self::Options) -> &EnasOptions;
    /// `(tanh_constant, temperature)` for the controller's logits; `cell_space` says
    /// whether the space is cell-based (ENAS micro; the search info's `cell_based`).
    fn squashing(options: &Self::Options, cell_space: bool) -> (Option<f64>, Option<f64>);
}

/// An ENAS trainer with the options of `F`.
pub struct EnasTrainer<F: EnasFlavour> {
    options: F::Options,
    rng: SeededRng,
    controller: Option<Controller>,
}

/// What an ENAS trainer saves.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// The controller's weights and baseline.
    controller: Value,
    /// The generator of samples.
    rng: SeededRng,
}

impl<F: EnasFlavour> EnasTrainer<F> {
    fn controller(&mut self) -> Result<&mut Controller> {
        self.controller
            .as_mut()
            .ok_or_else(|| PluginError::invalid_state("epoch before begin"))
    }
}

impl<F: EnasFlavour> OneShotTrainer for EnasTrainer<F> {
    fn new(options: &Options) -> Result<Self> {
        let options = F::Options::from_options(options, F::NAME)?;
        let shared = F::shared(&options);
        // Checked now so that bad values are refused before the search starts.
        let (tanh_constant, temperature) = F::squashing(&options, false);
        shared.controller(tanh_constant, temperature)?;
        Ok(EnasTrainer {
            rng: SeededRng::from_seed(shared.seed),
            options,
            controller: None,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        let info = ctx.info()?.clone();
        let space = SearchSpace::from_json(&info.search_space)?;
        let (tanh_constant, temperature) = F::squashing(&self.options, info.cell_based);
        let cfg = F::shared(&self.options).controller(tanh_constant, temperature)?;
        self.controller = Some(Controller::new(space, cfg, &mut self.rng)?);
        Ok(())
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let steps = ctx.info()?.steps_per_epoch;
        let ctrl_steps = F::shared(&self.options).ctrl_steps;
        let mut rng = self.rng.clone();
        let controller = self.controller()?;
        let space = controller.space().clone();
        let mut meter = StepMeter::default();
        for step in 0..steps {
            let sample = tch::no_grad(|| controller.sample(&mut rng, false));
            apply_selections(ctx, SUPERNET, &space, sample.selections)?;
            let batch = ctx.next_batch(Split::Train)?;
            let (loss, acc) = train_step(ctx, SUPERNET, &batch)?;
            report_step(
                ctx,
                &mut meter,
                (epoch, step),
                &[("loss", loss), ("accuracy", acc)],
            )?;
        }
        for _ in 0..ctrl_steps {
            let sample = controller.sample(&mut rng, false);
            apply_selections(ctx, SUPERNET, &space, sample.selections.clone())?;
            let batch = ctx.next_batch(Split::Valid)?;
            let logits = tch::no_grad(|| ctx.forward(SUPERNET, &batch.inputs))?;
            let reward = accuracy(&logits, &batch.labels);
            meter.add("valid_accuracy", reward);
            meter.add("reward", controller.reinforce(sample, reward));
        }
        let greedy = tch::no_grad(|| controller.sample(&mut rng, true));
        let architecture = Architecture::new(&space, greedy.selections)?.to_json(&space);
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
        save_state(&State {
            controller: controller.state(),
            rng: self.rng.clone(),
        })
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        let state: State = load_state(F::NAME, state)?;
        self.begin(ctx)?;
        self.controller()?.load(&state.controller)?;
        self.rng = state.rng;
        Ok(())
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        let samples = F::shared(&self.options).export_samples;
        let recalibrate = F::shared(&self.options).export_recalibrate;
        let info = ctx.info()?.clone();
        let costs = if info.limits.is_empty() {
            None
        } else {
            Some(ctx.costs(SUPERNET)?)
        };
        let fits = |arch: &Value| {
            costs
                .as_ref()
                .is_none_or(|c| info.limits.admits_estimate(c, arch))
        };
        let mut rng = self.rng.clone();
        let controller = self.controller()?;
        let space = controller.space().clone();
        let greedy = tch::no_grad(|| controller.sample(&mut rng, true));
        let greedy = Architecture::new(&space, greedy.selections)?.to_json(&space);
        // The candidates: the most likely architecture and `samples` sampled ones, all
        // within the limits (sampled ones drawn until they fit, at most 1,000 draws).
        let mut candidates: Vec<Value> = Vec::new();
        if fits(&greedy) {
            candidates.push(greedy.clone());
        }
        let want = samples + usize::from(candidates.is_empty());
        let mut draws = 0;
        while candidates.len() < want && draws < 1000 {
            draws += 1;
            let s = tch::no_grad(|| controller.sample(&mut rng, false));
            let arch = Architecture::new(&space, s.selections)?.to_json(&space);
            if fits(&arch) {
                candidates.push(arch);
            }
        }
        self.rng = rng;
        if candidates.is_empty() {
            // Nothing the controller samples fits: the cheapest moves from its choice.
            let costs = costs.as_ref().expect("only limits reject");
            return fit_within(
                &space,
                &info.choices,
                &greedy,
                (costs, &info.limits),
                &|_, _| 0.0,
                &|_, _| true,
            );
        }
        if candidates.len() == 1 {
            return Ok(candidates.remove(0));
        }
        let mut best = (f64::NEG_INFINITY, 0);
        for (i, arch) in candidates.iter().enumerate() {
            let acc = ctx.evaluate(SUPERNET, arch, recalibrate, 0)?;
            if acc > best.0 {
                best = (acc, i);
            }
        }
        Ok(candidates.swap_remove(best.1))
    }
}
