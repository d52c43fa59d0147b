//! The states of an experiment and of a trial, stored as NNI-style upper-case names
//! (the same strings older stores hold, so they still read).

use std::fmt;

/// An experiment's state (the store's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExperimentStatus {
    /// Recorded, not yet run.
    Created,
    /// A manager is running it (or was, until it was killed).
    Running,
    /// A one-shot search is retraining the architecture it found.
    Retraining,
    /// Stopped by `experiment stop`.
    Stopped,
    /// Finished.
    Done,
    /// Ended with an error (one-shot searches).
    Failed,
}

impl ExperimentStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentStatus::Created => "CREATED",
            ExperimentStatus::Running => "RUNNING",
            ExperimentStatus::Retraining => "RETRAINING",
            ExperimentStatus::Stopped => "STOPPED",
            ExperimentStatus::Done => "DONE",
            ExperimentStatus::Failed => "FAILED",
        }
    }

    /// The status a stored name stands for.
    pub fn parse(s: &str) -> Option<ExperimentStatus> {
        [
            ExperimentStatus::Created,
            ExperimentStatus::Running,
            ExperimentStatus::Retraining,
            ExperimentStatus::Stopped,
            ExperimentStatus::Done,
            ExperimentStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

impl fmt::Display for ExperimentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trial's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialStatus {
    /// Started (or about to be); also what a killed manager leaves behind.
    Running,
    /// Finished with a final metric.
    Succeeded,
    /// Crashed, timed out, or reported garbage (after its retries).
    Failed,
    /// Stopped by `experiment stop`.
    Canceled,
    /// Stopped early by the assessor.
    EarlyStopped,
}

impl TrialStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TrialStatus::Running => "RUNNING",
            TrialStatus::Succeeded => "SUCCEEDED",
            TrialStatus::Failed => "FAILED",
            TrialStatus::Canceled => "USER_CANCELED",
            TrialStatus::EarlyStopped => "EARLY_STOPPED",
        }
    }

    /// The status a stored name stands for (an unknown name reads as running, as a
    /// trial a killed manager left behind does).
    pub fn parse(s: &str) -> TrialStatus {
        match s {
            "SUCCEEDED" => TrialStatus::Succeeded,
            "FAILED" => TrialStatus::Failed,
            "USER_CANCELED" => TrialStatus::Canceled,
            "EARLY_STOPPED" => TrialStatus::EarlyStopped,
            _ => TrialStatus::Running,
        }
    }
}

impl fmt::Display for TrialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experiment_statuses_round_trip_through_their_stored_names() {
        for name in [
            "CREATED",
            "RUNNING",
            "RETRAINING",
            "STOPPED",
            "DONE",
            "FAILED",
        ] {
            assert_eq!(ExperimentStatus::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(ExperimentStatus::parse("running"), None);
    }
}
