//! Catching up with what a previous (killed) manager left: results the tuner has not
//! heard of, trials to run again, attempts a service can follow again.

use super::{own_cpu_seconds, Manager, Orphan, Running};
use anyhow::Result;
use archon_store::status::TrialStatus;
use tokio::sync::watch;

impl Manager {
    /// Reconciles with what a previous (killed) manager left: results the tuner has
    /// not heard of, trials to run again, attempts to follow again.
    pub(super) fn catch_up(&mut self) -> Result<()> {
        let orphans = self.reconcile()?;
        let trials = self.store.trials()?;
        self.generated = trials.len() as u64;
        self.next_id = trials.iter().map(|t| t.id + 1).max().unwrap_or(0);
        // The pre-filter's picks run in order: those already in the store are done.
        let dispensed = trials
            .iter()
            .filter(|t| t.info_json().get("prefilter").is_some())
            .count();
        self.prefilter.drain(..dispensed.min(self.prefilter.len()));
        self.seed_assessor()?;
        for orphan in orphans {
            self.reattach(orphan)?;
        }
        self.cpu_at_start = own_cpu_seconds();
        Ok(())
    }

    /// Queues interrupted trials and reports unreported ends; returns the attempts a
    /// service may be able to follow again.
    fn reconcile(&mut self) -> Result<Vec<Orphan>> {
        let mut orphans = Vec::new();
        for t in self.store.trials()? {
            match t.status {
                TrialStatus::Running => {
                    match self
                        .store
                        .meta(&format!("handle:{}:{}", t.id, t.attempts))?
                    {
                        Some(handle) => orphans.push((t.id, t.attempts, t.parameters, handle)),
                        None => self.queue.push_back((t.id, t.parameters)),
                    }
                }
                _ if !t.reported => {
                    let success = t.status == TrialStatus::Succeeded;
                    let raw = self.store.final_metric_raw(t.id)?;
                    self.report_end(t.id, &t.parameters, success, t.final_metric.zip(raw))?;
                }
                _ => {}
            }
        }
        Ok(orphans)
    }

    /// Gives the assessor the curves of the trials that already succeeded.
    fn seed_assessor(&mut self) -> Result<()> {
        let Some(rule) = self.assessor.as_mut() else {
            return Ok(());
        };
        for t in self.store.trials()? {
            if t.status != TrialStatus::Succeeded {
                continue;
            }
            let curve = self.store.metrics(t.id)?;
            rule.completed(curve.into_iter().filter(|m| !m.2).map(|m| m.0).collect());
        }
        Ok(())
    }

    /// Follows an attempt a previous manager started, or queues it to run again.
    fn reattach(&mut self, (id, attempt, parameters, handle): Orphan) -> Result<()> {
        let seen = self.store.metrics_of_attempt(id, attempt)?;
        let (stop, stop_rx) = watch::channel(false);
        let spec = self.trial_spec(id, attempt, &parameters, None)?;
        if !self
            .service
            .reattach(spec, &handle, seen.len(), self.events_tx.clone(), stop_rx)
        {
            self.queue.push_back((id, parameters));
            return Ok(());
        }
        archon_core::reporter::trial(
            id,
            format!("trial {id}: following attempt {attempt} again ({handle})"),
        );
        self.running.insert(
            id,
            Running {
                parameters,
                attempt,
                final_metric: seen.into_iter().last(),
                stop,
                early_stop: None,
            },
        );
        Ok(())
    }
}
