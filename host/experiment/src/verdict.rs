//! How a finished attempt of a trial is judged: its status, the reason and the exit
//! code the store records.

use super::{config::ExperimentConfig, service::Outcome};
use archon_store::status::TrialStatus;

/// A finished attempt's status, reason and exit code.
pub type Verdict = (TrialStatus, Option<String>, Option<i32>);

/// Decides a finished attempt's status, reason and exit code (`has_metric`: it
/// reported at least one metric).
pub fn judge(outcome: &Outcome, has_metric: bool, cfg: &ExperimentConfig) -> Verdict {
    match outcome {
        Outcome::Exited {
            code: Some(0),
            bad_metric: None,
        } if has_metric => (TrialStatus::Succeeded, None, Some(0)),
        Outcome::Exited {
            code: Some(0),
            bad_metric: None,
        } => (
            TrialStatus::Failed,
            Some(
                "exited without reporting a metric (print `ARCHON_METRIC {\"default\": …}`)".into(),
            ),
            Some(0),
        ),
        Outcome::Exited {
            code,
            bad_metric: Some(why),
        } => (TrialStatus::Failed, Some(why.clone()), *code),
        Outcome::Exited { code: Some(c), .. } => (
            TrialStatus::Failed,
            Some(format!("exited with code {c}")),
            Some(*c),
        ),
        Outcome::Exited { code: None, .. } => {
            (TrialStatus::Failed, Some("killed by a signal".into()), None)
        }
        Outcome::TimedOut => (
            TrialStatus::Failed,
            Some(format!(
                "timed out after {}",
                cfg.trial.timeout.as_deref().unwrap_or("?")
            )),
            None,
        ),
        Outcome::Stopped => (TrialStatus::Canceled, Some("stopped".into()), None),
        Outcome::SpawnFailed(why) => (TrialStatus::Failed, Some(why.clone()), None),
    }
}
