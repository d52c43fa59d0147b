//! The search proper: the supernet lent to the trainer epoch by epoch (begun, or
//! restored from the last checkpoint when resuming), a checkpoint after each epoch
//! but the last, and the trainer's export.

use super::{
    checkpoint,
    config::SearchConfig,
    host::{SearchHost, WeightOptim},
    prepare::{Prepared, RunOptions},
    recorder::Recorder,
};
use anyhow::{Context, Result};
use archon_plugin_api::{
    one_shot::{Report, SearchInfo},
    OneShotClient,
};
use archon_spaces::Supernet;
use archon_store::Store;

/// One search's fixed context.
pub(super) struct Search<'r> {
    pub(super) cfg: &'r SearchConfig,
    pub(super) store: &'r Store,
    pub(super) plugin: &'r str,
    pub(super) opts: &'r RunOptions,
}

impl Search<'_> {
    /// Lends the supernet to the trainer epoch by epoch (from the last checkpoint
    /// when resuming); returns the exported architecture and the steps run.
    pub(super) fn search(
        &self,
        trainer: &mut OneShotClient,
        data: Prepared,
        supernet: Supernet,
        info: SearchInfo,
    ) -> Result<(serde_json::Value, usize)> {
        let w = &self.cfg.weights;
        let optim = WeightOptim {
            momentum: w.momentum,
            weight_decay: w.weight_decay,
            grad_clip: w.grad_clip,
            shared_lr_scale: w.shared_lr_scale,
        };
        let epochs = self.cfg.search.epochs;
        let mut recorder =
            Recorder::new(self.store, info.steps_per_epoch, epochs, self.opts.quiet)?;
        let mut sink = |report: Report| recorder.record(report);
        let architecture = {
            let device = data.device;
            let mut host = SearchHost::new(
                data.family,
                data.space_cfg.clone(),
                supernet,
                (
                    data.weight_split.to_device(device),
                    data.arch_split.to_device(device),
                ),
                info,
                optim,
                self.lr_at(0),
                &mut sink,
            )?
            .with_replicas(self.cfg.search.replicas.unwrap_or_else(|| {
                archon_spaces::parallel::auto_replicas(device, self.cfg.search.batch_size)
            }))?;
            let first = self.begin(trainer, &mut host)?;
            self.epochs(trainer, &mut host, first)?;
            let architecture = trainer
                .export(&mut host)
                .with_context(|| format!("{}: export", self.plugin))?;
            host.save_supernet(self.store.dir())
                .context("saving the supernet's weights")?;
            architecture
        };
        recorder.finish();
        Ok((architecture, recorder.steps_done))
    }

    /// The cosine-annealed learning rate of the weights at `epoch`.
    fn lr_at(&self, epoch: usize) -> f64 {
        let w = &self.cfg.weights;
        let progress = epoch as f64 / self.cfg.search.epochs.max(1) as f64;
        w.lr_min + 0.5 * (w.lr - w.lr_min) * (1.0 + (std::f64::consts::PI * progress).cos())
    }

    /// Begins the trainer, or restores it and the networks from the last checkpoint
    /// when resuming; returns the first epoch to run.
    fn begin(&self, trainer: &mut OneShotClient, host: &mut SearchHost<'_>) -> Result<usize> {
        let dir = self.store.dir();
        match checkpoint::load(dir)? {
            Some(saved) if self.opts.resume => {
                host.restore(&checkpoint::dir(dir), &saved.host)
                    .context("restoring the networks from the checkpoint")?;
                trainer
                    .load_state(host, &saved.trainer)
                    .with_context(|| format!("{}: restoring its state", self.plugin))?;
                archon_core::reporter::progress(format!(
                    "resuming after epoch {} of {}",
                    saved.epoch + 1,
                    self.cfg.search.epochs
                ));
                Ok(saved.epoch + 1)
            }
            _ => {
                trainer
                    .begin(host)
                    .with_context(|| format!("{}: begin", self.plugin))?;
                Ok(0)
            }
        }
    }

    /// Runs the epochs from `first`, checkpointing after each but the last.
    fn epochs(
        &self,
        trainer: &mut OneShotClient,
        host: &mut SearchHost<'_>,
        first: usize,
    ) -> Result<()> {
        let epochs = self.cfg.search.epochs;
        let mut resumable = true;
        for epoch in first..epochs {
            let _span = tracing::info_span!("epoch", epoch).entered();
            host.set_lr(self.lr_at(epoch));
            trainer
                .epoch(host, epoch)
                .with_context(|| format!("{}: epoch {}", self.plugin, epoch + 1))?;
            if resumable && epoch + 1 < epochs {
                match trainer.save_state() {
                    Ok(state) => checkpoint::save(self.store.dir(), epoch, &state, host)?,
                    Err(e) => {
                        resumable = false;
                        tracing::warn!("{}: no checkpoints ({e})", self.plugin);
                    }
                }
            }
        }
        Ok(())
    }
}
