//! What a one-shot trainer reports while it searches, into the experiment store and
//! onto the progress bar: step metrics (written with their epoch's record, one disk
//! sync per epoch), epochs with their architecture weights, and evolutionary
//! generations.

use anyhow::Result;
use archon_core::progress;
use archon_plugin_api::one_shot::Report;
use archon_store::{now, Store};
use indicatif::ProgressBar;

/// Records a search's reports; counts its steps.
pub(crate) struct Recorder<'s> {
    store: &'s Store,
    bar: ProgressBar,
    steps: usize,
    epochs: usize,
    /// Steps recorded so far by this run.
    pub(crate) steps_done: usize,
    /// Step records waiting for their epoch's record.
    pending: Vec<(usize, usize, String, f64)>,
}

impl<'s> Recorder<'s> {
    /// A recorder for `epochs` epochs of `steps` steps (`quiet`: no progress bar).
    pub(crate) fn new(store: &'s Store, steps: usize, epochs: usize, quiet: bool) -> Result<Self> {
        Ok(Recorder {
            store,
            bar: progress::bar(
                "epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed} < {eta})",
                quiet,
            )?,
            steps,
            epochs,
            steps_done: 0,
            pending: Vec::new(),
        })
    }

    /// Records one report.
    pub(crate) fn record(&mut self, report: Report) -> Result<()> {
        match report {
            Report::Step {
                epoch,
                step,
                metrics,
            } => {
                self.pending
                    .push((epoch, step, serde_json::to_string(&metrics)?, now()));
                if step == 0 {
                    self.bar.set_length(self.steps as u64);
                    self.bar.set_position(0);
                    self.bar
                        .set_prefix(format!("{}/{}", epoch + 1, self.epochs));
                }
                self.steps_done += 1;
                self.bar.set_position((step + 1) as u64);
                self.bar.set_message(metric_text(&metrics));
            }
            Report::Population {
                generation,
                population,
            } => {
                self.store
                    .add_search_population(generation, &serde_json::to_string(&population)?)?;
                let best = population.iter().map(|s| s.score).fold(f64::NAN, f64::max);
                self.bar.suspend(|| {
                    archon_core::reporter::note(format!(
                        "generation {:>3}: {} architectures, best {best:.4}",
                        generation + 1,
                        population.len()
                    ))
                });
            }
            Report::Epoch {
                epoch,
                metrics,
                arch_weights,
                architecture,
            } => {
                self.store.add_search_steps(&self.pending)?;
                self.pending.clear();
                let arch = architecture.as_ref().map(|a| a.to_string());
                self.store.add_search_epoch(
                    epoch,
                    &serde_json::to_string(&metrics)?,
                    &serde_json::to_string(&arch_weights)?,
                    arch.as_deref(),
                )?;
                tracing::debug!(epoch, "epoch recorded");
                self.bar.suspend(|| {
                    archon_core::reporter::epoch(format!(
                        "epoch {:>3}: {}",
                        epoch + 1,
                        metric_text(&metrics)
                    ))
                });
            }
        }
        Ok(())
    }

    /// Clears the progress bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Metrics as one line, `name value` pairs.
pub fn metric_text(metrics: &std::collections::BTreeMap<String, f64>) -> String {
    metrics
        .iter()
        .map(|(k, v)| format!("{k} {}", archon_core::number::metric(*v)))
        .collect::<Vec<_>>()
        .join("  ")
}
