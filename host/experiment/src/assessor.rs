//! Early stopping: NNI's Medianstop (here), Curvefitting (`curve_fitting`) and an
//! assessor class of your own in Python (`python_assessor`). The assessor keeps the
//! running trials' intermediate values and asks its rule about each new one.
//! Medianstop stops a trial when its best intermediate value by step S is strictly
//! worse than the median of the running averages (up to step S) of all completed
//! trials; judged from `start_step` on, and only once some trial has completed.

use super::config::{AssessorSection, Direction};
use super::curve_fitting::CurveFitting;
use super::nni_export::reported_value;
use super::python_assessor::PythonAssessor;
use anyhow::{Context, Result};
use archon_store::protocol::MetricLine;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The experiment's assessor: its rule and the running trials' intermediate values.
#[derive(Debug)]
pub struct Assessor {
    rule: Rule,
    /// Intermediate values of running trials.
    running: HashMap<u64, Curve>,
}

/// A running trial's intermediate results: the values, and what it reported (a
/// Python class sees those, as under NNI).
#[derive(Debug, Default)]
struct Curve {
    values: Vec<f64>,
    reported: Vec<Value>,
}

/// Medianstop, Curvefitting or a Python class.
#[derive(Debug)]
enum Rule {
    Median(MedianStop),
    Curve(CurveFitting),
    Python(Box<PythonAssessor>),
}

/// Where a Python assessor's files are.
#[derive(Debug, Clone, Copy)]
pub struct AssessorDirs<'a> {
    /// The config's folder (the class's code directory is relative to it).
    pub config_dir: &'a Path,
    /// The folder holding archon's `nni` package (for a Python class).
    pub python_dir: Option<&'a Path>,
    /// The experiment's folder (the class's log, `python-assessor.log`, goes there).
    pub experiment_dir: &'a Path,
}

impl Assessor {
    /// The assessor `section` names (checked by the config), for `direction`; a Python
    /// class is started (an error if it cannot be).
    pub fn new(
        direction: Direction,
        section: &AssessorSection,
        dirs: AssessorDirs<'_>,
    ) -> Result<Self> {
        Ok(match section.name.as_str() {
            "curvefitting" => Self::curve(
                direction,
                section.start_step,
                section.epoch_num.unwrap_or(1),
                section.threshold.unwrap_or(0.95),
                section.gap.unwrap_or(1),
            ),
            "python" => Self::with(Rule::Python(Box::new(PythonAssessor::start(
                section,
                dirs.config_dir,
                dirs.python_dir
                    .context("internal: a Python assessor without archon's nni package")?,
                &dirs.experiment_dir.join("python-assessor.log"),
            )?))),
            _ => Self::median(direction, section.start_step),
        })
    }

    /// Medianstop for `direction`, judging from the `start_step`-th value on.
    pub fn median(direction: Direction, start_step: usize) -> Self {
        Self::with(Rule::Median(MedianStop::new(direction, start_step)))
    }

    /// Curvefitting (see [`CurveFitting::new`]).
    pub fn curve(
        direction: Direction,
        start_step: usize,
        epoch_num: usize,
        threshold: f64,
        gap: usize,
    ) -> Self {
        Self::with(Rule::Curve(CurveFitting::new(
            direction, start_step, epoch_num, threshold, gap,
        )))
    }

    fn with(rule: Rule) -> Self {
        Assessor {
            rule,
            running: HashMap::new(),
        }
    }

    /// Records a completed trial's intermediate values (also used when resuming; a
    /// Python class is not told of trials that ended before it started, as in NNI).
    pub fn completed(&mut self, values: Vec<f64>) {
        match &mut self.rule {
            Rule::Median(r) => r.completed(values),
            Rule::Curve(r) => r.completed(&values),
            Rule::Python(_) => {}
        }
    }

    /// A running trial ended: completed (its values count) or not (they are dropped). A
    /// Python class hears `trial_end` of the trials it was asked about, as under NNI.
    pub fn ended(&mut self, trial: u64, succeeded: bool) -> Result<()> {
        let curve = self.running.remove(&trial);
        match (&mut self.rule, curve) {
            (Rule::Python(class), Some(_)) => class.trial_end(trial, succeeded),
            (Rule::Python(_), None) => Ok(()),
            (_, Some(curve)) if succeeded => {
                self.completed(curve.values);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A trial's attempt failed and it runs again: its curve so far is dropped.
    pub fn restarted(&mut self, trial: u64) {
        self.running.remove(&trial);
    }

    /// Records an intermediate result; returns true if the trial should stop.
    pub fn report(&mut self, trial: u64, metric: &MetricLine) -> Result<bool> {
        let curve = self.running.entry(trial).or_default();
        curve.values.push(metric.value);
        Ok(match &mut self.rule {
            Rule::Median(r) => r.judge(&curve.values),
            Rule::Curve(r) => r.judge(&curve.values),
            Rule::Python(class) => {
                let reported = serde_json::from_str(&reported_value(&metric.raw))
                    .unwrap_or(Value::from(metric.value));
                curve.reported.push(reported);
                class.judge(trial, &curve.reported)?
            }
        })
    }

    /// Why it stopped the trial it last stopped.
    pub fn reason(&self) -> String {
        match &self.rule {
            Rule::Median(_) => "median stop: worse than the median of completed trials".into(),
            Rule::Curve(r) => r.reason(),
            Rule::Python(class) => class.reason(),
        }
    }
}

/// The median-stop rule and the completed trials' curves it needs.
#[derive(Debug, Clone)]
pub struct MedianStop {
    direction: Direction,
    start_step: usize,
    /// Intermediate values of completed (succeeded) trials.
    completed: Vec<Vec<f64>>,
}

impl MedianStop {
    /// A rule for `direction`, judging from the `start_step`-th intermediate value on.
    pub fn new(direction: Direction, start_step: usize) -> Self {
        MedianStop {
            direction,
            start_step: start_step.max(1),
            completed: Vec::new(),
        }
    }

    /// Records a completed trial's intermediate values.
    pub fn completed(&mut self, values: Vec<f64>) {
        if !values.is_empty() {
            self.completed.push(values);
        }
    }

    /// Whether a running trial with these intermediate values should stop.
    pub fn judge(&self, history: &[f64]) -> bool {
        let step = history.len();
        if step < self.start_step || self.completed.is_empty() {
            return false;
        }
        let best = match self.direction {
            Direction::Maximize => history.iter().copied().fold(f64::MIN, f64::max),
            Direction::Minimize => history.iter().copied().fold(f64::MAX, f64::min),
        };
        let mut averages: Vec<f64> = self
            .completed
            .iter()
            .map(|v| {
                let upto = &v[..step.min(v.len())];
                upto.iter().sum::<f64>() / upto.len() as f64
            })
            .collect();
        averages.sort_by(f64::total_cmp);
        let n = averages.len();
        let median = if n % 2 == 1 {
            averages[n / 2]
        } else {
            (averages[n / 2 - 1] + averages[n / 2]) / 2.0
        };
        self.direction.better(median, best)
    }
}

#[cfg(test)]
impl Assessor {
    /// `report` of a plain value (tests).
    pub(crate) fn value(&mut self, trial: u64, value: f64) -> bool {
        let metric = MetricLine {
            value,
            raw: value.to_string(),
            is_final: false,
        };
        self.report(trial, &metric).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_trials_worse_than_the_median_of_completed_ones() {
        let mut rule = Assessor::median(Direction::Maximize, 2);
        // Nothing completed yet: never stop.
        assert!(!rule.value(9, 0.0) && !rule.value(9, 0.0));
        rule.completed(vec![0.5, 0.6, 0.7]);
        rule.completed(vec![0.4, 0.5, 0.6]);
        rule.completed(vec![0.6, 0.7, 0.8]);
        // Step 1 is before start_step.
        assert!(!rule.value(1, 0.1));
        // Step 2: median of running averages (0.55, 0.45, 0.65) is 0.55; best 0.2 < 0.55.
        assert!(rule.value(1, 0.2));
        // A good trial goes on.
        assert!(!rule.value(2, 0.5));
        assert!(!rule.value(2, 0.6));
        // Minimizing flips the comparison.
        let mut low = Assessor::median(Direction::Minimize, 1);
        low.completed(vec![1.0, 0.8]);
        assert!(low.value(3, 2.0));
        assert!(!low.value(4, 0.5));
    }
}
