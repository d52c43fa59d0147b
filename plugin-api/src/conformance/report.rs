//! The result of a conformance run: one line per check.

use std::fmt;

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// What was checked.
    pub name: String,
    /// Whether the plugin passed.
    pub passed: bool,
    /// What was seen (why it failed, or a short summary).
    pub detail: String,
}

/// All outcomes of one conformance run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConformanceReport {
    /// The outcomes, in the order the checks ran.
    pub checks: Vec<CheckOutcome>,
}

impl ConformanceReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &CheckOutcome> {
        self.checks.iter().filter(|c| !c.passed)
    }

    pub(crate) fn record(&mut self, name: &str, outcome: Result<String, String>) {
        let (passed, detail) = match outcome {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        self.checks.push(CheckOutcome {
            name: name.into(),
            passed,
            detail,
        });
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(f, "{:<width$}  result  detail", "check")?;
        for c in &self.checks {
            let result = if c.passed { "PASS" } else { "FAIL" };
            writeln!(f, "{:<width$}  {result:<6}  {}", c.name, c.detail)?;
        }
        let failed = self.failures().count();
        write!(
            f,
            "{} passed, {} failed",
            self.checks.len() - failed,
            failed
        )
    }
}
