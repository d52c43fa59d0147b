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
    plugin_options,
    serde_json::{json, Value},
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
    /// P-DARTS's options.
    pub struct PdartsOptions {
        /// Cells of the supernet in each stage (the number of stages is its length).
        pub cells: Vec<u64> = vec![5, 11, 17],
        /// Candidates kept per edge when entering each next stage, by the last α.
        pub keep: Vec<u64> = vec![5, 3, 1],
        /// Dropout after skip-connects (identity candidates) at the start of each stage
        /// (decaying to 0).
        pub dropout: Vec<f64> = vec![0.1, 0.4, 0.7],
        /// Fraction of each stage's epochs with α frozen.
        pub warmup_fraction: f64 = 0.4,
        /// Accepted for every trainer (the host passes `search.seed`).
        pub seed: Option<u64> = None,
        #[flatten]
        pub arch: ArchOptions = ArchOptions {
            arch_lr: 6e-4,
            ..ArchOptions::default()
        },
        #[flatten]
        pub guard: GuardOptions = GuardOptions {
            max_skip: Some(2),
            ..GuardOptions::default()
        },
    }
}

/// The P-DARTS trainer.
pub struct Pdarts {
    cells: Vec<u64>,
    keep: Vec<usize>,
    dropout: Vec<f64>,
    warmup_fraction: f64,
    search: ArchSearch,
    stage: Option<usize>,
}

/// What P-DARTS saves.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// α (and the candidates still active).
    params: Value,
    /// The stage the search is in (none before the first epoch).
    #[serde(deserialize_with = "archon_plugin_support::present")]
    stage: Option<usize>,
}

/// Fails naming `key` unless every value of a list option passes `valid`.
fn check_list<T: std::fmt::Display>(
    key: &str,
    list: &[T],
    valid: impl Fn(&T) -> bool,
) -> Result<()> {
    match list.iter().find(|v| !valid(v)) {
        Some(v) => Err(PluginError::invalid_input(format!(
            "option {key}: {v} is not valid here"
        ))),
        None => Ok(()),
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
        let params = self.search.params_mut("epoch")?;
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
        let o = PdartsOptions::from_options(options, "pdarts")?;
        check_list("cells", &o.cells, |&c| c > 0)?;
        check_list("keep", &o.keep, |&k| k > 0)?;
        check_list("dropout", &o.dropout, |p| (0.0..1.0).contains(p))?;
        if !(0.0..1.0).contains(&o.warmup_fraction) {
            return Err(PluginError::invalid_input(format!(
                "option warmup_fraction: {} must be in [0, 1)",
                o.warmup_fraction
            )));
        }
        Ok(Pdarts {
            keep: o.keep.iter().map(|&k| k as usize).collect(),
            cells: o.cells,
            dropout: o.dropout,
            warmup_fraction: o.warmup_fraction,
            search: ArchSearch::new(o.arch.optim()?, o.guard.guard()?),
            stage: None,
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
        let (stage, in_stage, stage_len) = stage_of(epoch, epochs, self.cells.len());
        if self.stage != Some(stage) {
            self.enter_stage(ctx, stage)?;
        }
        let rate = self.dropout[stage.min(self.dropout.len() - 1)];
        let p = rate * (stage_len - in_stage - 1) as f64 / stage_len as f64;
        ctx.set_dropout(SUPERNET, CandidateRole::Identity, p)?;
        let train_arch = in_stage as f64 >= self.warmup_fraction * stage_len as f64;
        let params = self.search.params_mut("epoch")?;
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
        self.search.finish_epoch(ctx, epoch, &meter, extra)?;
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&State {
            params: self.search.state()?,
            stage: self.stage,
        })
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        let state: State = load_state("pdarts", state)?;
        // The host restored the supernet as deep as the saved stage made it.
        self.search.load(ctx, &state.params)?;
        self.stage = state.stage;
        Ok(())
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        self.search.export(ctx)
    }
}

archon_plugin_api::export_plugin! {
    name: "pdarts",
    version: env!("CARGO_PKG_VERSION"),
    description: "P-DARTS: stages of growing depth and shrinking candidates, skip dropout and cap",
    options: PdartsOptions,
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
