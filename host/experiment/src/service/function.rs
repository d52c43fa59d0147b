//! The test-function service (`trial.function = "branin"`): each trial is answered
//! in-process by a standard test function of numeric optimisation with a known
//! optimum, for benchmarking tuners on numeric spaces (`archon bench tuners --table
//! fn:branin`). A trial reports `default` = −f(x) (larger is better, at most −f*) and
//! `loss` = f(x); the space holds the function's arguments `x0`, `x1`, … as numbers
//! (any NNI numeric type, or a `choice` of numbers). [`Function::space`] is its
//! domain as an NNI space.

use super::{answer_in_process, Event, TrainingService, TrialSpec};
use anyhow::{bail, Result};
use archon_store::protocol::MetricLine;
use serde_json::Value;
use std::f64::consts::PI;
use tokio::sync::{mpsc, watch};

/// A test function: its name, domain (per argument), minimum and formula.
#[derive(Debug)]
pub struct Function {
    /// The name (`trial.function`).
    pub name: &'static str,
    /// Each argument's range.
    pub domain: &'static [(f64, f64)],
    /// The minimum f*.
    pub minimum: f64,
    f: fn(&[f64]) -> f64,
}

/// Branin–Hoo (2-D; three global minima).
fn branin(x: &[f64]) -> f64 {
    let b = 5.1 / (4.0 * PI * PI);
    let c = 5.0 / PI;
    let t = 1.0 / (8.0 * PI);
    (x[1] - b * x[0] * x[0] + c * x[0] - 6.0).powi(2) + 10.0 * (1.0 - t) * x[0].cos() + 10.0
}

/// The Hartmann functions' coefficients (3-D and 6-D).
const HARTMANN_ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const HARTMANN3_A: [[f64; 3]; 4] = [
    [3.0, 10.0, 30.0],
    [0.1, 10.0, 35.0],
    [3.0, 10.0, 30.0],
    [0.1, 10.0, 35.0],
];
const HARTMANN3_P: [[f64; 3]; 4] = [
    [0.3689, 0.1170, 0.2673],
    [0.4699, 0.4387, 0.7470],
    [0.1091, 0.8732, 0.5547],
    [0.0381, 0.5743, 0.8828],
];
const HARTMANN6_A: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const HARTMANN6_P: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

fn hartmann<const D: usize>(x: &[f64], a: &[[f64; D]; 4], p: &[[f64; D]; 4]) -> f64 {
    -(0..4)
        .map(|i| {
            let inner: f64 = (0..D).map(|j| a[i][j] * (x[j] - p[i][j]).powi(2)).sum();
            HARTMANN_ALPHA[i] * (-inner).exp()
        })
        .sum::<f64>()
}

/// Hartmann 3-D on [0, 1]³.
fn hartmann3(x: &[f64]) -> f64 {
    hartmann(x, &HARTMANN3_A, &HARTMANN3_P)
}

/// Hartmann 6-D on [0, 1]⁶.
fn hartmann6(x: &[f64]) -> f64 {
    hartmann(x, &HARTMANN6_A, &HARTMANN6_P)
}

/// Goldstein–Price (2-D), on the logarithmic scale usual in benchmarks: ln f, minimum ln 3.
fn goldstein_price(x: &[f64]) -> f64 {
    let (a, b) = (x[0], x[1]);
    let p = 1.0
        + (a + b + 1.0).powi(2)
            * (19.0 - 14.0 * a + 3.0 * a * a - 14.0 * b + 6.0 * a * b + 3.0 * b * b);
    let q = 30.0
        + (2.0 * a - 3.0 * b).powi(2)
            * (18.0 - 32.0 * a + 12.0 * a * a + 48.0 * b - 36.0 * a * b + 27.0 * b * b);
    (p * q).ln()
}

/// Rastrigin in 4 dimensions on [−5.12, 5.12]: many local minima, one at 0.
fn rastrigin(x: &[f64]) -> f64 {
    10.0 * x.len() as f64
        + x.iter()
            .map(|v| v * v - 10.0 * (2.0 * PI * v).cos())
            .sum::<f64>()
}

/// The built-in test functions.
pub static FUNCTIONS: [Function; 5] = [
    Function {
        name: "branin",
        domain: &[(-5.0, 10.0), (0.0, 15.0)],
        minimum: 0.397_887_357_729_738,
        f: branin,
    },
    Function {
        name: "hartmann3",
        domain: &[(0.0, 1.0); 3],
        minimum: -3.862_779_787_332_76,
        f: hartmann3,
    },
    Function {
        name: "hartmann6",
        domain: &[(0.0, 1.0); 6],
        minimum: -3.322_368_011_391_339,
        f: hartmann6,
    },
    Function {
        name: "goldstein_price",
        domain: &[(-2.0, 2.0); 2],
        minimum: 1.098_612_288_668_109_8, // ln 3
        f: goldstein_price,
    },
    Function {
        name: "rastrigin4",
        domain: &[(-5.12, 5.12); 4],
        minimum: 0.0,
        f: rastrigin,
    },
];

impl Function {
    /// The built-in function `name`; unknown names are refused listing them.
    pub fn named(name: &str) -> Result<&'static Function> {
        match FUNCTIONS.iter().find(|f| f.name == name) {
            Some(f) => Ok(f),
            None => bail!(
                "{name:?} is not a built-in test function (there are: {})",
                FUNCTIONS
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The arguments' names: `x0`, `x1`, ….
    pub fn arguments(&self) -> Vec<String> {
        (0..self.domain.len()).map(|i| format!("x{i}")).collect()
    }

    /// The function's domain as an NNI search space: each argument `uniform`.
    pub fn space(&self) -> Value {
        let mut space = serde_json::Map::new();
        for (name, (low, high)) in self.arguments().into_iter().zip(self.domain) {
            space.insert(
                name,
                serde_json::json!({"_type": "uniform", "_value": [low, high]}),
            );
        }
        Value::Object(space)
    }

    /// Checks that `space` (an NNI space) gives every argument as a number, naming the
    /// first that it does not.
    pub fn check_space(&self, space: &archon_plugin_api::SearchSpace) -> Result<()> {
        for name in self.arguments() {
            let Some((_, choice)) = space.choice(&name) else {
                bail!(
                    "trial.function {:?} takes {}; the space has no {name:?}",
                    self.name,
                    self.arguments().join(", ")
                );
            };
            let numbers = choice.is_numeric()
                || (0..choice.num_candidates()).all(|i| choice.candidate_value(i).is_number());
            if !numbers || choice.condition().is_some() {
                bail!(
                    "trial.function {:?}: {name:?} must be a number (a numeric type or a choice of numbers, not nested), found a {}",
                    self.name,
                    choice.type_name()
                );
            }
        }
        Ok(())
    }

    /// The metric of a trial's `parameters` (NNI-format JSON text).
    pub fn answer(&self, parameters: &str) -> Result<MetricLine, String> {
        let params: Value = serde_json::from_str(parameters)
            .map_err(|e| format!("trial parameters are not JSON: {e}"))?;
        let mut x = Vec::with_capacity(self.domain.len());
        for name in self.arguments() {
            let v = params
                .get(&name)
                .map(|v| v.get("_value").unwrap_or(v))
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("trial parameters have no number {name:?}"))?;
            x.push(v);
        }
        let loss = (self.f)(&x);
        let raw = serde_json::json!({"default": -loss, "loss": loss}).to_string();
        Ok(MetricLine {
            value: -loss,
            raw,
            is_final: true,
        })
    }
}

/// Answers trials with a test function.
pub struct FunctionService {
    function: &'static Function,
}

impl FunctionService {
    /// The service of `function`.
    pub fn new(function: &'static Function) -> Self {
        FunctionService { function }
    }
}

impl TrainingService for FunctionService {
    fn launch(
        &self,
        spec: TrialSpec,
        events: mpsc::UnboundedSender<Event>,
        _stop: watch::Receiver<bool>,
    ) {
        answer_in_process(&spec, self.function.answer(&spec.parameters), &events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each function's minimum is reached at its published minimiser.
    #[test]
    fn published_minimisers_give_the_minimum() {
        for (name, at) in [
            ("branin", vec![PI, 2.275]),
            ("hartmann3", vec![0.114614, 0.555649, 0.852547]),
            (
                "hartmann6",
                vec![0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573],
            ),
            ("goldstein_price", vec![0.0, -1.0]),
            ("rastrigin4", vec![0.0; 4]),
        ] {
            let f = Function::named(name).unwrap();
            let v = (f.f)(&at);
            assert!((v - f.minimum).abs() < 1e-3, "{name}: {v} vs {}", f.minimum);
            // And it is a minimum: random points do worse.
            for i in 0..50 {
                let x: Vec<f64> = f
                    .domain
                    .iter()
                    .enumerate()
                    .map(|(j, (lo, hi))| lo + (hi - lo) * (((i * 7 + j * 13) % 50) as f64 / 49.0))
                    .collect();
                assert!((f.f)(&x) >= f.minimum - 1e-9, "{name} at {x:?}");
            }
        }
    }

    #[test]
    fn trials_are_answered_from_their_parameters() {
        let f = Function::named("branin").unwrap();
        let m = f
            .answer(r#"{"x0": {"_value": 3.141592653589793}, "x1": 2.275}"#)
            .unwrap();
        assert!((m.value + 0.397887).abs() < 1e-5, "{m:?}");
        assert!(m.raw.contains("\"loss\""), "{}", m.raw);
        let e = f.answer(r#"{"x0": 1}"#).unwrap_err();
        assert!(e.contains("no number \"x1\""), "{e}");
    }

    #[test]
    fn spaces_are_checked_and_names_listed() {
        let f = Function::named("branin").unwrap();
        let space = archon_plugin_api::SearchSpace::from_json(&f.space()).unwrap();
        f.check_space(&space).unwrap();
        let other = archon_plugin_api::SearchSpace::from_json_str(
            r#"{"x0": {"_type": "choice", "_value": ["a", "b"]}, "x1": {"_type": "uniform", "_value": [0, 1]}}"#,
        )
        .unwrap();
        let e = f.check_space(&other).unwrap_err().to_string();
        assert!(e.contains("\"x0\" must be a number"), "{e}");
        let e = Function::named("nope").unwrap_err().to_string();
        assert!(e.contains("there are: branin, hartmann3"), "{e}");
    }
}
