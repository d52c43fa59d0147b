//! NNI's numeric parameter types (`uniform`, `quniform`, `loguniform`, `qloguniform`,
//! `normal`, `qnormal`, `lognormal`, `qlognormal`) and the value type that selects
//! from them.
//!
//! Semantics follow NNI's search-space reference: a uniform type draws from
//! `[low, high]`, a normal type from N(µ, σ); `log` types draw the logarithm that way
//! and take `exp`; `q` types round to a multiple of `q` (`round(x / q) * q`) and the
//! uniform ones are then clipped to `[low, high]`. `randint` is not here: it is
//! categorical, as in NNI (see [`ChoiceKind::RandInt`](super::ChoiceKind::RandInt)).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::{cmp::Ordering, hash::Hash};

/// A number chosen for a numeric parameter. Compares, orders and hashes by its bits
/// (total order), so architectures holding numbers can still be deduplicated.
#[derive(Debug, Clone, Copy)]
pub struct Real(pub f64);

impl PartialEq for Real {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for Real {}
impl Hash for Real {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}
impl PartialOrd for Real {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Real {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl Serialize for Real {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}
impl<'de> Deserialize<'de> for Real {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Real)
    }
}

/// Which numeric type a parameter has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumericType {
    /// `uniform [low, high]`.
    Uniform,
    /// `quniform [low, high, q]`.
    QUniform,
    /// `loguniform [low, high]` (0 < low < high).
    LogUniform,
    /// `qloguniform [low, high, q]`.
    QLogUniform,
    /// `normal [mu, sigma]`.
    Normal,
    /// `qnormal [mu, sigma, q]`.
    QNormal,
    /// `lognormal [mu, sigma]`: `exp(normal(mu, sigma))`.
    LogNormal,
    /// `qlognormal [mu, sigma, q]`.
    QLogNormal,
}

impl NumericType {
    /// Every numeric type, for parsing and listings.
    pub const ALL: [NumericType; 8] = [
        NumericType::Uniform,
        NumericType::QUniform,
        NumericType::LogUniform,
        NumericType::QLogUniform,
        NumericType::Normal,
        NumericType::QNormal,
        NumericType::LogNormal,
        NumericType::QLogNormal,
    ];

    /// The NNI `_type`.
    pub fn name(self) -> &'static str {
        match self {
            NumericType::Uniform => "uniform",
            NumericType::QUniform => "quniform",
            NumericType::LogUniform => "loguniform",
            NumericType::QLogUniform => "qloguniform",
            NumericType::Normal => "normal",
            NumericType::QNormal => "qnormal",
            NumericType::LogNormal => "lognormal",
            NumericType::QLogNormal => "qlognormal",
        }
    }

    /// The type called `name`, if it is a numeric one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether the type is quantized (takes a third value `q`).
    pub fn quantized(self) -> bool {
        self.name().starts_with('q')
    }
    /// Whether the logarithm of the value is what is drawn.
    pub fn log(self) -> bool {
        self.name().contains("log")
    }
    /// Whether the (log-)value is normally distributed (else uniform).
    pub fn normal(self) -> bool {
        self.name().contains("normal")
    }
}

/// A numeric parameter: its type and `_value` (`[low, high(, q)]` or `[mu, sigma(, q)]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Numeric {
    /// The type.
    pub kind: NumericType,
    /// `low` (uniform types) or `mu` (normal types), as written.
    pub a: f64,
    /// `high` or `sigma`, as written.
    pub b: f64,
    /// The quantum of a `q` type.
    pub q: Option<f64>,
}

/// Where a numeric parameter's draw lives before `exp`, rounding and clipping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// Uniform on `[low, high]` (logarithms for log types).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal with mean `mu` and deviation `sigma` (of the logarithm for log types).
    Normal {
        /// Mean.
        mu: f64,
        /// Standard deviation.
        sigma: f64,
    },
}

impl Numeric {
    /// Checks `_value` (already split into numbers) for `kind`; the error says what is
    /// wrong in NNI's terms.
    pub(crate) fn new(kind: NumericType, values: &[f64]) -> Result<Self, String> {
        let want = if kind.quantized() { 3 } else { 2 };
        let names = match (kind.normal(), kind.quantized()) {
            (false, false) => "[low, high]",
            (false, true) => "[low, high, q]",
            (true, false) => "[mu, sigma]",
            (true, true) => "[mu, sigma, q]",
        };
        if values.len() != want {
            return Err(format!(
                "a {} takes {names}, found {} numbers",
                kind.name(),
                values.len()
            ));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(format!("{v} is not a finite number"));
        }
        let (a, b) = (values[0], values[1]);
        let q = kind.quantized().then(|| values[2]);
        if let Some(q) = q {
            if q <= 0.0 {
                return Err(format!("q must be positive, found {q}"));
            }
        }
        if kind.normal() {
            if b <= 0.0 {
                return Err(format!("sigma must be positive, found {b}"));
            }
        } else {
            if a >= b {
                return Err(format!("low ({a}) must be below high ({b})"));
            }
            if kind.log() && a <= 0.0 {
                return Err(format!(
                    "a {} needs 0 < low, found low = {a} (the logarithm is drawn)",
                    kind.name()
                ));
            }
        }
        Ok(Numeric { kind, a, b, q })
    }

    /// The `_value` as written.
    pub fn values(&self) -> Vec<f64> {
        let mut v = vec![self.a, self.b];
        v.extend(self.q);
        v
    }

    /// The distribution drawn from (in log space for log types), as NNI's TPE sees it.
    pub fn prior(&self) -> Prior {
        if self.kind.normal() {
            Prior::Normal {
                mu: self.a,
                sigma: self.b,
            }
        } else if self.kind.log() {
            Prior::Uniform {
                low: self.a.ln(),
                high: self.b.ln(),
            }
        } else {
            Prior::Uniform {
                low: self.a,
                high: self.b,
            }
        }
    }

    /// The bounds a value is clipped to (the uniform types), as written.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        (!self.kind.normal()).then_some((self.a, self.b))
    }

    /// The parameter value of a draw `x` from [`prior`](Self::prior): `exp` for log
    /// types, then rounding to `q`, then clipping into `[low, high]` for uniform types.
    pub fn value_of_draw(&self, x: f64) -> f64 {
        let mut v = if self.kind.log() { x.exp() } else { x };
        if let Some(q) = self.q {
            v = (v / q).round() * q;
        }
        if let Some((low, high)) = self.bounds() {
            v = v.clamp(low, high);
        }
        v
    }

    /// The draw (in the prior's space) that gives `value`: its logarithm for log types.
    /// Used by model-based tuners to read a value back.
    pub fn draw_of_value(&self, value: f64) -> f64 {
        if self.kind.log() {
            value.max(f64::MIN_POSITIVE).ln()
        } else {
            value
        }
    }

    /// Why `value` cannot be a value of this parameter, if it cannot.
    pub(crate) fn check(&self, value: f64) -> Result<(), String> {
        if !value.is_finite() {
            return Err(format!("{value} is not a finite number"));
        }
        if let Some((low, high)) = self.bounds() {
            if value < low || value > high {
                return Err(format!(
                    "{value} is outside the {}'s range [{low}, {high}]",
                    self.kind.name()
                ));
            }
        }
        if self.kind == NumericType::LogNormal && value <= 0.0 {
            return Err(format!("{value} is not positive, as a lognormal value is"));
        }
        if self.kind == NumericType::QLogNormal && value < 0.0 {
            return Err(format!("{value} is negative; a qlognormal value is not"));
        }
        Ok(())
    }

    /// A random value, drawing uniform integers with `uniform(n)` (in `0..n`).
    pub fn sample(&self, uniform: &mut dyn FnMut(u128) -> u128) -> f64 {
        let draw = match self.prior() {
            Prior::Uniform { low, high } => {
                let u = unit(uniform);
                if (high - low).is_finite() {
                    low + (high - low) * u
                } else {
                    // A range wider than the largest double: blend the bounds instead.
                    low * (1.0 - u) + high * u
                }
            }
            Prior::Normal { mu, sigma } => mu + sigma * standard_normal(uniform),
        };
        self.value_of_draw(draw)
    }
}

/// 2^53: the number of evenly spaced doubles in [0, 1) a uniform integer maps to.
const UNIT_STEPS: u128 = 1 << 53;

/// A uniform number in `[0, 1)` from a uniform integer.
pub fn unit(uniform: &mut dyn FnMut(u128) -> u128) -> f64 {
    uniform(UNIT_STEPS) as f64 / UNIT_STEPS as f64
}

/// A standard normal number (Box–Muller) from uniform integers.
pub fn standard_normal(uniform: &mut dyn FnMut(u128) -> u128) -> f64 {
    // 1 - unit is in (0, 1], so its logarithm is finite.
    let u1 = 1.0 - unit(uniform);
    let u2 = unit(uniform);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_uniform_range_wider_than_a_double_still_spreads_its_draws() {
        let space = crate::SearchSpace::from_json_str(
            r#"{"x": {"_type": "uniform", "_value": [-1.7e308, 1.7e308]}}"#,
        )
        .unwrap();
        let mut state = 1u128;
        let draws: Vec<String> = (0..20)
            .map(|_| {
                let sel = space.sample(&mut |n| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 64) % n
                });
                format!("{sel:?}")
            })
            .collect();
        let distinct: std::collections::HashSet<&String> = draws.iter().collect();
        assert!(distinct.len() > 15, "{draws:?}");
        assert!(draws.iter().all(|d| !d.contains("inf")), "{draws:?}");
    }

    use super::*;

    fn counter() -> impl FnMut(u128) -> u128 {
        // A small LCG: deterministic and spread enough for moment checks.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        move |n| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as u128) % n
        }
    }

    #[test]
    fn quantized_uniform_values_are_multiples_within_bounds() {
        let p = Numeric::new(NumericType::QUniform, &[0.0, 10.0, 3.0]).unwrap();
        let mut u = counter();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let v = p.sample(&mut u);
            assert!((0.0..=10.0).contains(&v));
            assert_eq!(v % 3.0, 0.0, "{v} is a multiple of q");
            seen.insert(v as i64);
        }
        // NNI's semantics: round(x / q) * q clipped, so 10 is never reached but 9 is.
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [0, 3, 6, 9]);
    }

    #[test]
    fn log_uniform_spreads_evenly_over_decades() {
        let p = Numeric::new(NumericType::LogUniform, &[1e-4, 1.0]).unwrap();
        let mut u = counter();
        let draws: Vec<f64> = (0..4000).map(|_| p.sample(&mut u)).collect();
        let below_1e2 = draws.iter().filter(|&&v| v < 1e-2).count() as f64 / 4000.0;
        assert!((below_1e2 - 0.5).abs() < 0.05, "{below_1e2}");
        assert!(draws.iter().all(|&v| (1e-4..=1.0).contains(&v)));
    }

    #[test]
    fn normal_draws_have_the_given_moments() {
        let p = Numeric::new(NumericType::Normal, &[5.0, 2.0]).unwrap();
        let mut u = counter();
        let draws: Vec<f64> = (0..20000).map(|_| p.sample(&mut u)).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!((mean - 5.0).abs() < 0.05, "{mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.05, "{}", var.sqrt());
    }

    #[test]
    fn bad_values_say_what_nni_expects() {
        let e = |t, v: &[f64]| Numeric::new(t, v).unwrap_err();
        assert!(e(NumericType::Uniform, &[1.0]).contains("a uniform takes [low, high]"));
        assert!(e(NumericType::QNormal, &[0.0, 1.0]).contains("[mu, sigma, q]"));
        assert!(e(NumericType::LogUniform, &[0.0, 1.0]).contains("0 < low"));
        assert!(e(NumericType::Uniform, &[2.0, 1.0]).contains("must be below high"));
        assert!(e(NumericType::Normal, &[0.0, -1.0]).contains("sigma must be positive"));
        assert!(e(NumericType::QUniform, &[0.0, 1.0, 0.0]).contains("q must be positive"));
    }
}
