//! Early stopping: NNI's Medianstop (here) and Curvefitting (`curve_fitting`). The
//! assessor keeps the running trials' intermediate values and asks its rule about each
//! new one. Medianstop stops a trial when its best intermediate value by step S is
//! strictly worse than the median of the running averages (up to step S) of all
//! completed trials; judged from `start_step` on, and only once some trial has
//! completed.

use super::config::{AssessorSection, Direction};
use super::curve_fitting::CurveFitting;
use std::collections::HashMap;

/// The experiment's assessor: its rule and the running trials' intermediate values.
#[derive(Debug, Clone)]
pub struct Assessor {
    rule: Rule,
    /// Intermediate values of running trials.
    running: HashMap<u64, Vec<f64>>,
}

/// Medianstop or Curvefitting.
#[derive(Debug, Clone)]
enum Rule {
    Median(MedianStop),
    Curve(CurveFitting),
}

impl Assessor {
    /// The assessor `section` names (checked by the config), for `direction`.
    pub fn new(direction: Direction, section: &AssessorSection) -> Self {
        match section.name.as_str() {
            "curvefitting" => Self::curve(
                direction,
                section.start_step,
                section.epoch_num.unwrap_or(1),
                section.threshold.unwrap_or(0.95),
                section.gap.unwrap_or(1),
            ),
            _ => Self::median(direction, section.start_step),
        }
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

    /// Records a completed trial's intermediate values (also used when resuming).
    pub fn completed(&mut self, values: Vec<f64>) {
        match &mut self.rule {
            Rule::Median(r) => r.completed(values),
            Rule::Curve(r) => r.completed(&values),
        }
    }

    /// A running trial ended: completed (its values count) or not (they are dropped).
    pub fn ended(&mut self, trial: u64, succeeded: bool) {
        if let Some(values) = self.running.remove(&trial) {
            if succeeded {
                self.completed(values);
            }
        }
    }

    /// Records an intermediate value; returns true if the trial should stop.
    pub fn report(&mut self, trial: u64, value: f64) -> bool {
        let history = self.running.entry(trial).or_default();
        history.push(value);
        match &mut self.rule {
            Rule::Median(r) => r.judge(history),
            Rule::Curve(r) => r.judge(history),
        }
    }

    /// Why it stopped the trial it last stopped.
    pub fn reason(&self) -> String {
        match &self.rule {
            Rule::Median(_) => "median stop: worse than the median of completed trials".into(),
            Rule::Curve(r) => r.reason(),
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
mod tests {
    use super::*;

    #[test]
    fn stops_trials_worse_than_the_median_of_completed_ones() {
        let mut rule = Assessor::median(Direction::Maximize, 2);
        // Nothing completed yet: never stop.
        assert!(!rule.report(9, 0.0) && !rule.report(9, 0.0));
        rule.completed(vec![0.5, 0.6, 0.7]);
        rule.completed(vec![0.4, 0.5, 0.6]);
        rule.completed(vec![0.6, 0.7, 0.8]);
        // Step 1 is before start_step.
        assert!(!rule.report(1, 0.1));
        // Step 2: median of running averages (0.55, 0.45, 0.65) is 0.55; best 0.2 < 0.55.
        assert!(rule.report(1, 0.2));
        // A good trial goes on.
        assert!(!rule.report(2, 0.5));
        assert!(!rule.report(2, 0.6));
        // Minimizing flips the comparison.
        let mut low = Assessor::median(Direction::Minimize, 1);
        low.completed(vec![1.0, 0.8]);
        assert!(low.report(3, 2.0));
        assert!(!low.report(4, 0.5));
    }
}
