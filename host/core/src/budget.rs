//! A wall-clock budget for a whole run (`archon search --retrain --budget 15m`): the
//! search runs first, then the final training gets as many epochs as its measured
//! throughput fits into what is left (its learning-rate schedule needs the count up
//! front, so the plan is made before training, not by cutting training short).

use anyhow::{bail, Result};
use archon_spaces::{
    data::Dataset,
    train::{evaluate, train, TrainConfig},
    Child,
};
use std::time::{Duration, Instant};

/// Training steps timed by [`epoch_seconds`] (after as many warm-up steps).
const PROBE_STEPS: usize = 12;

/// Part of the time left that the plan fills (the rest absorbs noise in the
/// measured throughput: these machines vary by up to 2× from run to run).
pub const FILL: f64 = 0.9;

/// A run's time budget and when the run started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// The whole budget.
    pub total: Duration,
    /// When the run started.
    pub started: Instant,
}

impl Budget {
    /// A budget of `total` starting now.
    pub fn starting_now(total: Duration) -> Self {
        Budget {
            total,
            started: Instant::now(),
        }
    }

    /// Seconds left (0 when spent).
    pub fn remaining_seconds(&self) -> f64 {
        self.total
            .saturating_sub(self.started.elapsed())
            .as_secs_f64()
    }
}

/// Parses a duration such as `15m`, `900s`, `1h`, `1h30m` or `90` (seconds); `key`
/// names the flag or config key in errors.
pub fn parse_duration(text: &str, key: &str) -> Result<Duration> {
    let bad = |why: &str| {
        anyhow::anyhow!("{key}: {text:?} {why}; write a duration such as 15m, 900s, 1h or 1h30m")
    };
    let text_trim = text.trim();
    if text_trim.is_empty() {
        return Err(bad("is empty"));
    }
    let mut seconds = 0.0;
    let mut number = String::new();
    for c in text_trim.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600.0,
            'm' => 60.0,
            's' => 1.0,
            _ => return Err(bad(&format!("has an unknown unit {c:?}"))),
        };
        let value: f64 = number
            .parse()
            .map_err(|_| bad(&format!("has no number before {c:?}")))?;
        seconds += value * unit;
        number.clear();
    }
    if !number.is_empty() {
        seconds += number.parse::<f64>().map_err(|_| bad("is not a number"))?;
    }
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(bad("must be longer than 0"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Seconds one epoch of `tc` over `fit` takes here, evaluation of `eval_examples`
/// included: measured on a throwaway child from `build` (a few steps of the same
/// batch size, recipe and augmentation), so the child to train is untouched.
pub fn epoch_seconds(
    build: impl Fn() -> archon_spaces::Result<Child>,
    tc: &TrainConfig,
    fit: &Dataset,
    eval_examples: usize,
) -> Result<f64> {
    let batch = tc.batch_size.max(1) as usize;
    let steps_per_epoch = fit.len().div_ceil(batch);
    let sample = fit.subset(PROBE_STEPS * batch, tc.seed);
    // Nothing to validate on while timing steps (evaluation is timed on its own).
    let none = Dataset {
        inputs: fit.inputs.narrow(0, 0, 0),
        labels: fit.labels.narrow(0, 0, 0),
    };
    let probe_tc = TrainConfig {
        epochs: 1,
        start_epoch: 0,
        stop_epoch: None,
        ..tc.clone()
    };
    let mut probe = build()?;
    // Warm-up (allocations, kernel choice), then the timed steps.
    train(&mut probe, &sample, &none, &probe_tc, &mut |_| {})?;
    let start = Instant::now();
    train(&mut probe, &sample, &none, &probe_tc, &mut |_| {})?;
    let step = start.elapsed().as_secs_f64() / sample.len().div_ceil(batch).max(1) as f64;
    let eval_sample = fit.subset(1000.min(eval_examples.max(1)), tc.seed);
    let start = Instant::now();
    evaluate(&probe, &eval_sample, 1000)?;
    let per_eval = start.elapsed().as_secs_f64() / eval_sample.len().max(1) as f64;
    Ok(step * steps_per_epoch as f64 + per_eval * eval_examples as f64)
}

/// How many epochs of `epoch_seconds` fit into [`FILL`] of `remaining_seconds`, at
/// most `max_epochs`; an error when not even one does.
pub fn epochs_that_fit(
    epoch_seconds: f64,
    remaining_seconds: f64,
    max_epochs: usize,
) -> Result<usize> {
    let fit = (FILL * remaining_seconds / epoch_seconds.max(1e-9)).floor() as usize;
    if fit == 0 {
        bail!(
            "the budget has {remaining_seconds:.0} s left, less than one epoch of the final training ({epoch_seconds:.0} s measured): raise --budget, shorten the search (search.epochs) or train a smaller network (retrain.options, retrain.train_subset)"
        );
    }
    Ok(fit.min(max_epochs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_bad_ones_name_the_key() {
        let secs = |t: &str| parse_duration(t, "--budget").unwrap().as_secs_f64();
        assert_eq!(secs("15m"), 900.0);
        assert_eq!(secs("1h30m"), 5400.0);
        assert_eq!(secs("90"), 90.0);
        assert_eq!(secs("2.5m"), 150.0);
        for bad in ["", "0m", "15x", "m", "-5m", "1e400"] {
            let e = parse_duration(bad, "--budget").unwrap_err().to_string();
            assert!(e.starts_with("--budget: "), "{bad}: {e}");
        }
    }

    #[test]
    fn the_plan_fills_the_time_left_and_refuses_when_nothing_fits() {
        assert_eq!(epochs_that_fit(60.0, 600.0, 100).unwrap(), 9);
        assert_eq!(epochs_that_fit(60.0, 600.0, 4).unwrap(), 4);
        let e = epochs_that_fit(60.0, 30.0, 10).unwrap_err().to_string();
        assert!(
            e.contains("less than one epoch") && e.contains("--budget"),
            "{e}"
        );
    }
}
