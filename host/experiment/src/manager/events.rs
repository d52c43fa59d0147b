//! What running trials report: metrics (judged by the assessor), handles, and ends
//! (retried, or recorded and told to the tuner), with a progress line per finished
//! trial.

use super::Manager;
use crate::{
    service::{Event, Outcome},
    verdict::judge,
};
use anyhow::Result;
use archon_store::{protocol::MetricLine, status::TrialStatus};
use std::time::Duration;

impl Manager {
    /// Records one event of a running trial.
    pub(super) fn handle(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Metric {
                id,
                attempt,
                metric,
            } => self.on_metric(id, attempt, metric),
            Event::Handle {
                id,
                attempt,
                handle,
            } => self
                .store
                .set_meta(&format!("handle:{id}:{attempt}"), &handle),
            Event::Ended {
                id,
                attempt,
                outcome,
            } => self.on_ended(id, attempt, &outcome),
        }
    }

    /// Stores a metric and lets the assessor judge the trial's curve.
    fn on_metric(&mut self, id: u64, attempt: u32, metric: MetricLine) -> Result<()> {
        let _span = tracing::info_span!("trial", id).entered();
        tracing::debug!(attempt, value = metric.value, "metric");
        self.store
            .add_metric(id, attempt, metric.value, &metric.raw, metric.is_final)?;
        let Some(r) = self.running.get_mut(&id) else {
            return Ok(());
        };
        if let (Some(rule), false) = (self.assessor.as_mut(), metric.is_final) {
            if r.early_stop.is_none() && rule.report(id, &metric)? {
                r.early_stop = Some(rule.reason());
                let _ = r.stop.send(true);
            }
        }
        if r.final_metric.as_ref().is_none_or(|m| !m.is_final) {
            r.final_metric = Some(metric);
        }
        Ok(())
    }

    /// Judges an ended attempt: retries it, or records the trial's end and tells the
    /// tuner.
    fn on_ended(&mut self, id: u64, attempt: u32, outcome: &Outcome) -> Result<()> {
        let _span = tracing::info_span!("trial", id).entered();
        let Some(r) = self.running.remove(&id) else {
            return Ok(());
        };
        debug_assert_eq!(r.attempt, attempt);
        let (status, reason, code) = match (outcome, &r.early_stop) {
            (Outcome::Stopped, Some(why)) => (TrialStatus::EarlyStopped, Some(why.clone()), None),
            _ => judge(outcome, r.final_metric.is_some(), &self.cfg),
        };
        // A crash says why in its own words: the last line it wrote to stderr.
        let reason = match (status, reason, outcome) {
            (TrialStatus::Failed, Some(why), Outcome::Exited { .. }) => Some(
                match last_error_line(&self.store.trial_dir(id).join("stderr.log")) {
                    Some(line) if !why.contains(&line) => format!("{why}: {line}"),
                    _ => why,
                },
            ),
            (_, reason, _) => reason,
        };
        if status == TrialStatus::Failed && attempt <= self.cfg.trial.retries && !self.stopping {
            // The next attempt's curve starts afresh; the trial has not ended.
            if let Some(rule) = self.assessor.as_mut() {
                rule.restarted(id);
            }
            archon_core::reporter::trial(
                id,
                format!(
                    "trial {id} attempt {attempt} failed ({}); retrying",
                    reason.as_deref().unwrap_or("?")
                ),
            );
            self.queue.push_back((id, r.parameters));
            return Ok(());
        }
        let value = r
            .final_metric
            .as_ref()
            .map(|m| m.value)
            .filter(|_| status == TrialStatus::Succeeded);
        self.store
            .finish_trial(id, status, value, code, reason.as_deref())?;
        if status != TrialStatus::Canceled {
            let raw = r.final_metric.as_ref().map(|m| m.raw.clone());
            let metric = value.zip(raw);
            self.report_end(id, &r.parameters, status == TrialStatus::Succeeded, metric)?;
        }
        self.count(id, status, value);
        if !self.quiet {
            archon_core::reporter::trial(id, self.progress_line(id, status, reason));
        }
        // Last, so that a Python assessor that fails here finds the trial recorded.
        if let Some(rule) = self.assessor.as_mut() {
            rule.ended(id, status == TrialStatus::Succeeded)?;
        }
        Ok(())
    }

    /// Adds a finished trial to the run's summary.
    fn count(&mut self, id: u64, status: TrialStatus, value: Option<f64>) {
        let summary = &mut self.summary;
        match (status, value) {
            (TrialStatus::Succeeded, Some(v)) => {
                summary.succeeded += 1;
                if summary
                    .best
                    .is_none_or(|(_, b)| self.cfg.direction.better(v, b))
                {
                    summary.best = Some((id, v));
                }
            }
            (TrialStatus::Failed, _) => summary.failed += 1,
            _ => {}
        }
    }

    /// "trial 3: SUCCEEDED | done 3 failed 0 running 1 | best … | elapsed …".
    fn progress_line(&self, id: u64, status: TrialStatus, reason: Option<String>) -> String {
        let s = &self.summary;
        format!(
            "trial {id}: {}{} | done {} failed {} running {} | best {} | {}",
            status.as_str(),
            reason.map(|r| format!(" ({r})")).unwrap_or_default(),
            s.succeeded,
            s.failed,
            self.running.len(),
            s.best
                .map(|(i, v)| format!("{} (trial {i})", archon_core::number::metric(v)))
                .unwrap_or_else(|| "-".into()),
            eta(
                self.started.elapsed(),
                s.succeeded + s.failed,
                self.cfg.max_trials,
                self.exhausted
            )
        )
    }

    /// Tells the tuner how a trial ended — with the whole final metric (its value as
    /// `default`, every other field the trial reported, for multi-objective tuners) —
    /// and checkpoints it, atomically with the record.
    pub(super) fn report_end(
        &mut self,
        id: u64,
        parameters: &str,
        success: bool,
        metric: Option<(f64, String)>,
    ) -> Result<()> {
        if let (true, Some((v, raw))) = (success, metric) {
            let mut json = match serde_json::from_str::<serde_json::Value>(&raw) {
                Ok(serde_json::Value::Object(map)) => serde_json::Value::Object(map),
                _ => serde_json::json!({}),
            };
            json["default"] = serde_json::json!(v);
            self.tuner
                .receive_trial_result(id, parameters, &json.to_string())?;
        }
        self.tuner.trial_end(id, success)?;
        // A tuner that had nothing to propose (waiting for results, as multi-fidelity
        // schedules do) is asked again; it ends the search by saying nothing while no
        // trial runs.
        self.exhausted = false;
        let state = self.tuner.save_state()?;
        self.store.mark_reported(id, &state)
    }
}

/// "elapsed 1m05s, ETA 2m10s" from the pace so far.
fn eta(elapsed: Duration, finished: usize, max_trials: u64, exhausted: bool) -> String {
    let fmt = |d: Duration| {
        let s = d.as_secs();
        if s >= 60 {
            format!("{}m{:02}s", s / 60, s % 60)
        } else {
            format!("{s}s")
        }
    };
    let left = max_trials.saturating_sub(finished as u64);
    if finished == 0 || exhausted || left == 0 {
        return format!("elapsed {}", fmt(elapsed));
    }
    format!(
        "elapsed {}, ETA {}",
        fmt(elapsed),
        fmt(elapsed.mul_f64(left as f64 / finished as f64))
    )
}

/// The last non-empty line of a trial's `stderr.log` (at most 300 characters, without
/// C++ frames or Rust debug forms), if any.
fn last_error_line(log: &std::path::Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    // The tail is enough: the last line is all that is shown (a log can be large).
    let mut file = std::fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)))
        .ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let text = archon_core::readable_error::clean(&String::from_utf8_lossy(&tail));
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(300).collect())
}
