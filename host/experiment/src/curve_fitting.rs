//! Early stopping by learning-curve extrapolation, as NNI's Curvefitting assessor: from
//! `start_step` on, every `gap` steps, a running trial's intermediate values are
//! extrapolated to step `epoch_num`, and the trial stops when the prediction is worse
//! than `threshold` times the best last value of the completed trials (minimising: the
//! best divided by `threshold`). NNI fits twelve curve families by MCMC; archon fits
//! three — y = c + a·x^(−α), y = c + a·e^(−βx), y = b + a·ln x — by least squares (a
//! grid over α and β, the rest in closed form) and takes the median of their
//! predictions. Nothing is stopped before a trial has completed or with fewer than three
//! values.

use super::config::Direction;

/// The curve-fitting rule and the completed trials' best it needs.
#[derive(Debug, Clone)]
pub struct CurveFitting {
    direction: Direction,
    start_step: usize,
    epoch_num: usize,
    threshold: f64,
    gap: usize,
    /// The best last intermediate value of the completed trials.
    best: Option<f64>,
    /// The last prediction that stopped a trial (for the reason).
    last: Option<(f64, f64)>,
}

const ALPHAS: [f64; 9] = [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0];
const BETAS: [f64; 7] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0];

/// Least squares of `ys` on 1 and `f(x)`: (intercept, slope, squared error).
fn fit(ys: &[f64], f: impl Fn(f64) -> f64) -> Option<(f64, f64, f64)> {
    let n = ys.len() as f64;
    let fx: Vec<f64> = (1..=ys.len()).map(|x| f(x as f64)).collect();
    let mx = fx.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = fx.iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx <= 1e-300 || !sxx.is_finite() {
        return None;
    }
    let sxy: f64 = fx.iter().zip(ys).map(|(v, y)| (v - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let sse = fx
        .iter()
        .zip(ys)
        .map(|(v, y)| (intercept + slope * v - y).powi(2))
        .sum();
    Some((intercept, slope, sse))
}

/// The value of the family `f` (best of its `grid`) at step `at`.
fn family(ys: &[f64], grid: &[f64], f: impl Fn(f64, f64) -> f64, at: f64) -> Option<f64> {
    grid.iter()
        .filter_map(|&p| fit(ys, |x| f(x, p)).map(|(b, a, e)| (e, b + a * f(at, p))))
        .filter(|(e, v)| e.is_finite() && v.is_finite())
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v)
}

/// The median of the three families' predictions of step `at` from `ys` (steps 1, 2, …).
pub fn predict(ys: &[f64], at: usize) -> Option<f64> {
    if ys.len() < 3 {
        return None;
    }
    let at = at as f64;
    let mut predictions: Vec<f64> = [
        family(ys, &ALPHAS, |x, alpha| x.powf(-alpha), at),
        family(ys, &BETAS, |x, beta| (-beta * x).exp(), at),
        fit(ys, f64::ln).map(|(b, a, _)| b + a * at.ln()),
    ]
    .into_iter()
    .flatten()
    .filter(|v| v.is_finite())
    .collect();
    if predictions.is_empty() {
        return None;
    }
    predictions.sort_by(f64::total_cmp);
    Some(predictions[predictions.len() / 2])
}

impl CurveFitting {
    /// The rule (`threshold` in (0, 1], `gap` ≥ 1, `epoch_num` ≥ 1: checked by the config).
    pub fn new(
        direction: Direction,
        start_step: usize,
        epoch_num: usize,
        threshold: f64,
        gap: usize,
    ) -> Self {
        CurveFitting {
            direction,
            start_step: start_step.max(3),
            epoch_num,
            threshold,
            gap: gap.max(1),
            best: None,
            last: None,
        }
    }

    /// Records a completed trial's intermediate values: its last one may be the best.
    pub fn completed(&mut self, values: &[f64]) {
        if let Some(&last) = values.last() {
            self.best = Some(match self.best {
                Some(b) if self.direction.better(b, last) => b,
                _ => last,
            });
        }
    }

    /// Whether a running trial with these intermediate values should stop.
    pub fn judge(&mut self, history: &[f64]) -> bool {
        let step = history.len();
        let Some(best) = self.best else {
            return false;
        };
        if step < self.start_step || !(step - self.start_step).is_multiple_of(self.gap) {
            return false;
        }
        let Some(predicted) = predict(history, self.epoch_num.max(step)) else {
            return false;
        };
        let bar = match self.direction {
            Direction::Maximize => best * self.threshold,
            Direction::Minimize => best / self.threshold,
        };
        let stop = self.direction.better(bar, predicted);
        if stop {
            self.last = Some((predicted, bar));
        }
        stop
    }

    /// Why the last stopped trial was stopped.
    pub fn reason(&self) -> String {
        match self.last {
            Some((predicted, bar)) => format!(
                "curve fitting: its curve extrapolates to {predicted:.4} at step {}, worse than {bar:.4} ({} of the best completed trial)",
                self.epoch_num, self.threshold
            ),
            None => "curve fitting".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessor::Assessor;

    #[test]
    fn a_power_law_is_extrapolated() {
        let ys: Vec<f64> = (1..=8).map(|x| 0.9 - 0.5 * (x as f64).powf(-0.5)).collect();
        let p = predict(&ys, 50).unwrap();
        let truth = 0.9 - 0.5 * 50f64.powf(-0.5);
        assert!((p - truth).abs() < 0.02, "{p} vs {truth}");
        assert!(predict(&ys[..2], 50).is_none(), "two values are too few");
    }

    #[test]
    fn a_plateau_below_the_best_stops_and_a_rising_curve_goes_on() {
        let mut rule = Assessor::curve(Direction::Maximize, 4, 20, 0.95, 1);
        // Nothing completed yet: never stop.
        for v in [0.3, 0.4, 0.45, 0.47, 0.48] {
            assert!(!rule.value(1, v));
        }
        rule.ended(1, true).unwrap();
        rule.completed(vec![0.6, 0.8, 0.85, 0.88, 0.9]);
        // A trial that levels off near 0.5 is stopped at step 4 (start_step).
        let flat = [0.40, 0.46, 0.49, 0.50];
        let stops: Vec<bool> = flat.iter().map(|&v| rule.value(2, v)).collect();
        assert_eq!(stops, vec![false, false, false, true]);
        assert!(
            rule.reason().contains("worse than 0.8550"),
            "{}",
            rule.reason()
        );
        // One that rises toward the best is not.
        for x in 1..=8 {
            let v = 0.92 - 0.4 * (x as f64).powf(-0.7);
            assert!(!rule.value(3, v), "step {x}: {v}");
        }
    }

    #[test]
    fn gap_and_minimising() {
        let mut rule = Assessor::curve(Direction::Minimize, 3, 10, 0.9, 2);
        rule.completed(vec![1.0, 0.5, 0.3]);
        // Losses stuck near 2.0: judged at steps 3, 5, …; stopped at step 3.
        assert!(!rule.value(1, 2.2));
        assert!(!rule.value(1, 2.1));
        assert!(rule.value(1, 2.05));
        // Judged at step 3 (go on), not at 4, then at 5.
        let mut rule = Assessor::curve(Direction::Minimize, 3, 10, 0.9, 2);
        rule.completed(vec![1.0, 0.5, 0.3]);
        assert!(!rule.value(2, 0.9) && !rule.value(2, 0.5) && !rule.value(2, 0.35));
        assert!(!rule.value(2, 5.0), "step 4 is not judged (gap 2)");
    }
}
