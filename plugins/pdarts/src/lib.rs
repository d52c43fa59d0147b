//! P-DARTS (Chen et al., "Progressive Differentiable Architecture Search", ICCV 2019)
//! as an archon one-shot plugin.
//!
//! The search epochs are divided into stages. Each stage rebuilds the supernet deeper
//! (`cells`, default 5 → 11 → 17) and, from the second stage on, with fewer candidates
//! per edge: the `keep` (default 5, 3) strongest by the previous stage's α, zero
//! operations (`none`) dropped first. Within a stage, α (Adam `arch_lr` 6e-4, betas (0.5, 0.999), weight
//! decay 1e-3) is frozen for the first `warmup_fraction` (0.4) of its epochs, and
//! skip-connects (candidates whose role is identity) get dropout decaying linearly from the stage's `dropout` (0.1, 0.4,
//! 0.7) to 0. The final architecture keeps at most `max_skip` (2) skip-connects per
//! cell type, the weakest giving way to their edge's next best operation.
//!
//! Options: `cells`, `keep`, `dropout`, `warmup_fraction`, `arch_lr`, `arch_beta1`, `arch_beta2`, `arch_weight_decay`,
//! `max_skip`, `stop_at_skip`, `seed`.

use archon_plugin_api::{
    one_shot::{CandidateRole, OneShotTrainer, Split, SupernetContext, SUPERNET},
    serde_json::{json, Value},
    Options, PluginError, Result,
};
use archon_plugin_support::one_shot::{
    arch_step_first_order, finish_epoch, report_step, started, started_mut, weight_step, ArchOptim,
    ArchParams, CollapseGuard, Mixture, StepMeter,
};
use std::collections::BTreeMap;

/// The P-DARTS trainer.
pub struct Pdarts {
    cells: Vec<u64>,
    keep: Vec<usize>,
    dropout: Vec<f64>,
    warmup_fraction: f64,
    optim: ArchOptim,
    guard: CollapseGuard,
    params: Option<ArchParams>,
    stage: Option<usize>,
}

fn list<T>(
    options: &Options,
    key: &str,
    default: Vec<T>,
    parse: impl Fn(&Value) -> Option<T>,
) -> Result<Vec<T>> {
    match options.as_map().get(key) {
        None => Ok(default),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                parse(v).ok_or_else(|| {
                    PluginError::invalid_input(format!("option {key}: {v} is not valid here"))
                })
            })
            .collect(),
        Some(v) => Err(PluginError::invalid_input(format!(
            "option {key}: expected a non-empty list, found {v}"
        ))),
    }
}

/// The stage of `epoch` when `epochs` are split into `stages` and where it is in it:
/// (stage, epoch within the stage, epochs of the stage).
pub fn stage_of(epoch: usize, epochs: usize, stages: usize) -> (usize, usize, usize) {
    let stages = stages.min(epochs).max(1);
    let stage = (epoch * stages / epochs.max(1)).min(stages - 1);
    let first = (stage * epochs).div_ceil(stages);
    let next = ((stage + 1) * epochs).div_ceil(stages);
    (stage, epoch - first, next - first)
}

impl Pdarts {
    /// Moves to `stage`: shrink the candidates by the last α (from stage 1 on), rebuild
    /// the supernet deeper, draw α afresh.
    fn enter_stage(&mut self, ctx: &mut SupernetContext<'_>, stage: usize) -> Result<()> {
        let params = started_mut(&mut self.params, "epoch")?;
        if stage > 0 {
            let keep = self.keep[(stage - 1).min(self.keep.len() - 1)];
            for k in 0..params.choices().len() {
                if !params.mixes(k) || params.choices()[k].is_input() {
                    continue;
                }
                let p = params.probabilities(k);
                let choice = &params.choices()[k];
                let mut ranked: Vec<usize> = params
                    .active(k)
                    .iter()
                    .copied()
                    .filter(|&i| choice.role(i) != CandidateRole::Zero)
                    .collect();
                ranked.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
                ranked.truncate(keep.max(1));
                ranked.sort_unstable();
                params.restrict(k, ranked);
            }
        }
        let cells = self.cells[stage.min(self.cells.len() - 1)];
        ctx.rebuild(SUPERNET, &json!({ "cells": cells }))?;
        params.reinitialise();
        self.stage = Some(stage);
        Ok(())
    }
}

impl OneShotTrainer for Pdarts {
    fn new(options: &Options) -> Result<Self> {
        let mut known = vec!["cells", "keep", "dropout", "warmup_fraction", "seed"];
        known.extend(ArchOptim::KEYS);
        known.extend(CollapseGuard::KEYS);
        options.deny_unknown("pdarts", &known)?;
        let cells = list(options, "cells", vec![5, 11, 17], |v| {
            v.as_u64().filter(|&c| c > 0)
        })?;
        let keep = list(options, "keep", vec![5, 3, 1], |v| {
            v.as_u64().filter(|&k| k > 0).map(|k| k as usize)
        })?;
        let dropout = list(options, "dropout", vec![0.1, 0.4, 0.7], |v| {
            v.as_f64().filter(|p| (0.0..1.0).contains(p))
        })?;
        let warmup_fraction = options.f64("warmup_fraction")?.unwrap_or(0.4);
        if !(0.0..1.0).contains(&warmup_fraction) {
            return Err(PluginError::invalid_input(format!(
                "option warmup_fraction: {warmup_fraction} must be in [0, 1)"
            )));
        }
        let mut guard = CollapseGuard::from_options(options)?;
        guard.max_skip = Some(guard.max_skip.unwrap_or(2));
        let mut optim = ArchOptim::from_options(options)?;
        if options.f64("arch_lr")?.is_none() {
            optim.lr = 6e-4;
        }
        Ok(Pdarts {
            cells,
            keep,
            dropout,
            warmup_fraction,
            optim,
            guard,
            params: None,
            stage: None,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.params = Some(ArchParams::for_search(ctx, self.optim)?);
        Ok(())
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let (steps, epochs) = {
            let info = ctx.info()?;
            (info.steps_per_epoch, info.epochs)
        };
        let (stage, in_stage, stage_len) = stage_of(epoch, epochs, self.cells.len());
        if self.stage != Some(stage) {
            self.enter_stage(ctx, stage)?;
        }
        let rate = self.dropout[stage.min(self.dropout.len() - 1)];
        let p = rate * (stage_len - in_stage - 1) as f64 / stage_len as f64;
        ctx.set_dropout(SUPERNET, CandidateRole::Identity, p)?;
        let train_arch = in_stage as f64 >= self.warmup_fraction * stage_len as f64;
        let guard = self.guard;
        let params = started_mut(&mut self.params, "epoch")?;
        let mut meter = StepMeter::default();
        for step in 0..steps {
            let mut metrics = Vec::with_capacity(4);
            if train_arch {
                let valid = ctx.next_batch(Split::Valid)?;
                let (l, a) = arch_step_first_order(
                    ctx,
                    SUPERNET,
                    params,
                    Mixture::Softmax { grad: true },
                    &valid,
                )?;
                metrics.extend([("valid_loss", l), ("valid_accuracy", a)]);
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
            ("stage".to_string(), stage as f64),
            (
                "cells".to_string(),
                self.cells[stage.min(self.cells.len() - 1)] as f64,
            ),
            ("skip_dropout".to_string(), p),
        ]);
        finish_epoch(ctx, epoch, &meter, params, &guard, extra)?;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        let params = started(&self.params, "save_state")?;
        Ok(json!({ "params": params.state(), "stage": self.stage }))
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        self.begin(ctx)?;
        // The host restored the supernet as deep as the saved stage made it.
        self.stage = state["stage"].as_u64().map(|s| s as usize);
        started_mut(&mut self.params, "load_state")?.load(&state["params"])
    }

    fn export(&mut self, _ctx: &mut SupernetContext<'_>) -> Result<Value> {
        Ok(started(&self.params, "export")?
            .derive(&self.guard)?
            .architecture)
    }
}

archon_plugin_api::export_plugin! {
    name: "pdarts",
    version: env!("CARGO_PKG_VERSION"),
    description: "P-DARTS: stages of growing depth and shrinking candidates, skip dropout and cap",
    one_shot_trainer: Pdarts,
}

#[cfg(test)]
mod tests {
    use super::stage_of;

    #[test]
    fn epochs_divide_into_stages() {
        let stages: Vec<_> = (0..6).map(|e| stage_of(e, 6, 3)).collect();
        assert_eq!(
            stages,
            [
                (0, 0, 2),
                (0, 1, 2),
                (1, 0, 2),
                (1, 1, 2),
                (2, 0, 2),
                (2, 1, 2)
            ]
        );
        // Fewer epochs than stages: one stage per epoch.
        assert_eq!(stage_of(1, 2, 3), (1, 0, 1));
        assert_eq!(stage_of(0, 1, 3), (0, 0, 1));
    }
}
