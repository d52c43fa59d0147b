//! The Tree-structured Parzen Estimator (Bergstra et al. 2011), shared by the `tpe`
//! and `bohb` tuners: the split into good and bad observations, smoothed categorical
//! counts, and adaptive Parzen windows (Gaussian mixtures) for numbers.
//!
//! Observations arrive in time order; each group's linear-forgetting weights are by
//! age within the group (the oldest get the smallest weight once a group holds more
//! than `linear_forgetting` of them), as in hyperopt.

use archon_plugin_api::space::{standard_normal, unit};

/// The algorithm's own settings (NNI's `TpeArguments`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Args {
    /// Candidates drawn from l(x) per proposal.
    pub n_ei_candidates: usize,
    /// Observations after which older ones weigh less.
    pub linear_forgetting: usize,
    /// Weight of the prior as one observation.
    pub prior_weight: f64,
    /// Which observations count as good.
    pub good: Good,
}

/// How many of N observations count as good.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Good {
    /// ⌈γ·√N⌉, at most `linear_forgetting` (TPE, as hyperopt and NNI).
    Gamma(f64),
    /// ⌈fraction·N⌉ (BOHB's `top_n_percent`).
    Fraction(f64),
}

/// A uniform integer source (`uniform(n)` in `0..n`).
pub type Uniform<'a> = &'a mut dyn FnMut(u128) -> u128;

/// Splits observations `(value, loss)` (time order) into the good ones — the lowest
/// losses, as many as [`Good`] says — and the rest, each group kept in time order.
pub fn split<T: Clone>(args: &Args, history: &[(T, f64)]) -> (Vec<T>, Vec<T>) {
    let n = history.len() as f64;
    let n_below = match args.good {
        Good::Gamma(gamma) => ((gamma * n.sqrt()).ceil() as usize).min(args.linear_forgetting),
        Good::Fraction(f) => (f * n).ceil() as usize,
    }
    .min(history.len());
    let mut order: Vec<usize> = (0..history.len()).collect();
    // Stable: among equal losses the earlier observation counts as better.
    order.sort_by(|&a, &b| history[a].1.total_cmp(&history[b].1));
    let mut good = vec![false; history.len()];
    for &i in &order[..n_below] {
        good[i] = true;
    }
    let (mut below, mut above) = (Vec::new(), Vec::new());
    for (i, (value, _)) in history.iter().enumerate() {
        if good[i] {
            below.push(value.clone());
        } else {
            above.push(value.clone());
        }
    }
    (below, above)
}

/// Weights of `n` observations in time order: 1 for the newest `linear_forgetting`,
/// a ramp from 1/n up to 1 for the older ones.
pub fn forgetting_weights(args: &Args, n: usize) -> Vec<f64> {
    let lf = args.linear_forgetting;
    if n <= lf {
        return vec![1.0; n];
    }
    let ramp = n - lf;
    let mut w: Vec<f64> = (0..ramp)
        .map(|i| {
            if ramp == 1 {
                1.0 / n as f64
            } else {
                1.0 / n as f64 + (1.0 - 1.0 / n as f64) * i as f64 / (ramp - 1) as f64
            }
        })
        .collect();
    w.extend(std::iter::repeat_n(1.0, lf));
    w
}

/// Smoothed category probabilities of observations (weighted counts + the prior
/// weight for every category).
fn category_probabilities(args: &Args, observed: &[usize], size: usize) -> Vec<f64> {
    let mut counts = vec![args.prior_weight; size];
    for (&c, w) in observed
        .iter()
        .zip(forgetting_weights(args, observed.len()))
    {
        counts[c] += w;
    }
    let total: f64 = counts.iter().sum();
    counts.iter().map(|c| c / total).collect()
}

/// Draws a category from probabilities `p`.
fn draw_category(p: &[f64], uniform: Uniform<'_>) -> usize {
    let mut u = unit(uniform);
    for (i, &pi) in p.iter().enumerate() {
        if u < pi {
            return i;
        }
        u -= pi;
    }
    p.len() - 1
}

/// The category of `size` that maximizes l(x)/g(x) among `n_ei_candidates` drawn from
/// l (the good observations' distribution).
pub fn suggest_categorical(
    args: &Args,
    history: &[(usize, f64)],
    size: usize,
    uniform: Uniform<'_>,
) -> usize {
    let (below, above) = split(args, history);
    let p_below = category_probabilities(args, &below, size);
    let p_above = category_probabilities(args, &above, size);
    let mut best = (f64::NEG_INFINITY, 0);
    for _ in 0..args.n_ei_candidates.max(1) {
        let c = draw_category(&p_below, uniform);
        let score = p_below[c].ln() - p_above[c].ln();
        if score > best.0 {
            best = (score, c);
        }
    }
    best.1
}

/// A one-dimensional Gaussian mixture, optionally truncated to `[low, high]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    pub weights: Vec<f64>,
    pub mus: Vec<f64>,
    pub sigmas: Vec<f64>,
    pub clip: Option<(f64, f64)>,
}

/// The adaptive Parzen estimator (paper §4.2): a Gaussian at each observation and one
/// at the prior; each observation's width is the larger gap to its neighbours (sorted
/// by value), clipped into [σ_prior / min(100, N + 2), σ_prior]; the prior keeps σ_prior.
pub fn adaptive_parzen(
    args: &Args,
    observed: &[f64],
    prior_mu: f64,
    prior_sigma: f64,
    clip: Option<(f64, f64)>,
) -> Mixture {
    // (mu, weight, is_prior), sorted by mu.
    let mut points: Vec<(f64, f64, bool)> = observed
        .iter()
        .zip(forgetting_weights(args, observed.len()))
        .map(|(&m, w)| (m, w, false))
        .collect();
    points.push((prior_mu, args.prior_weight, true));
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = points.len();
    let mus: Vec<f64> = points.iter().map(|p| p.0).collect();
    let mut sigmas: Vec<f64> = (0..n)
        .map(|i| {
            if points[i].2 || n == 1 {
                prior_sigma
            } else if n == 2 {
                prior_sigma * 0.5
            } else if i == 0 {
                mus[1] - mus[0]
            } else if i == n - 1 {
                mus[n - 1] - mus[n - 2]
            } else {
                (mus[i] - mus[i - 1]).max(mus[i + 1] - mus[i])
            }
        })
        .collect();
    let floor = prior_sigma / (n + 1).min(100) as f64;
    for s in &mut sigmas {
        *s = s.clamp(floor, prior_sigma);
    }
    let total: f64 = points.iter().map(|p| p.1).sum();
    Mixture {
        weights: points.iter().map(|p| p.1 / total).collect(),
        mus,
        sigmas,
        clip,
    }
}

/// How often a truncated draw may be rejected before falling back to the bounds' middle.
const MAX_REJECTIONS: usize = 10_000;

impl Mixture {
    /// One draw (inside the clip).
    pub fn sample(&self, uniform: Uniform<'_>) -> f64 {
        for _ in 0..MAX_REJECTIONS {
            let k = draw_category(&self.weights, uniform);
            let x = self.mus[k] + self.sigmas[k] * standard_normal(uniform);
            match self.clip {
                Some((low, high)) if !(low..=high).contains(&x) => continue,
                _ => return x,
            }
        }
        self.clip
            .map_or(self.mus[0], |(low, high)| (low + high) / 2.0)
    }

    /// The log density at `x` (renormalized for the truncation).
    pub fn log_pdf(&self, x: f64) -> f64 {
        let accept = match self.clip {
            Some((low, high)) => self
                .weights
                .iter()
                .zip(self.mus.iter().zip(&self.sigmas))
                .map(|(w, (m, s))| w * (normal_cdf((high - m) / s) - normal_cdf((low - m) / s)))
                .sum::<f64>()
                .max(1e-300),
            None => 1.0,
        };
        let terms: Vec<f64> = self
            .weights
            .iter()
            .zip(self.mus.iter().zip(&self.sigmas))
            .map(|(w, (m, s))| {
                let z = (x - m) / s;
                -0.5 * z * z + (w / (s * (2.0 * std::f64::consts::PI).sqrt()) / accept).ln()
            })
            .collect();
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
    }
}

/// Φ(z), the standard normal CDF.
fn normal_cdf(z: f64) -> f64 {
    0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

/// The error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7).
fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// A number in the prior's space maximizing l(x)/g(x) among `n_ei_candidates` draws from
/// l. `clip` bounds uniform priors; normal priors are unbounded.
pub fn suggest_number(
    args: &Args,
    history: &[(f64, f64)],
    prior_mu: f64,
    prior_sigma: f64,
    clip: Option<(f64, f64)>,
    uniform: Uniform<'_>,
) -> f64 {
    let (below, above) = split(args, history);
    let good = adaptive_parzen(args, &below, prior_mu, prior_sigma, clip);
    let bad = adaptive_parzen(args, &above, prior_mu, prior_sigma, clip);
    let mut best = (f64::NEG_INFINITY, prior_mu);
    for _ in 0..args.n_ei_candidates.max(1) {
        let x = good.sample(uniform);
        let score = good.log_pdf(x) - bad.log_pdf(x);
        if score > best.0 {
            best = (score, x);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGS: Args = Args {
        n_ei_candidates: 24,
        linear_forgetting: 25,
        prior_weight: 1.0,
        good: Good::Gamma(0.25),
    };

    fn lcg() -> impl FnMut(u128) -> u128 {
        let mut state: u64 = 42;
        move |n| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as u128) % n
        }
    }

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-2.0, -0.995_322_3),
        ] {
            assert!((erf(x) - want).abs() < 2e-7, "erf({x}) = {}", erf(x));
        }
    }

    #[test]
    fn the_good_group_is_the_best_ceil_gamma_sqrt_n() {
        let history: Vec<(usize, f64)> = (0..16).map(|i| (i, (16 - i) as f64)).collect();
        let (below, above) = split(&ARGS, &history);
        // ⌈0.25·4⌉ = 1: the lowest loss, i.e. the last observation.
        assert_eq!(below, [15]);
        assert_eq!(above.len(), 15);
        assert_eq!(above[0], 0, "time order kept");
    }

    #[test]
    fn forgetting_ramps_the_oldest_only() {
        assert_eq!(forgetting_weights(&ARGS, 3), [1.0; 3]);
        let w = forgetting_weights(&ARGS, 30);
        assert_eq!(w.len(), 30);
        assert!((w[0] - 1.0 / 30.0).abs() < 1e-12);
        assert!(w.windows(2).all(|p| p[0] <= p[1]));
        assert!(w[5..].iter().all(|&x| x == 1.0));
    }

    #[test]
    fn categorical_suggestions_follow_the_good_category() {
        // Category 2 is always best; after 40 observations TPE proposes it nearly always.
        let mut u = lcg();
        let history: Vec<(usize, f64)> = (0..40)
            .map(|i| {
                (
                    i % 4,
                    if i % 4 == 2 {
                        0.0
                    } else {
                        1.0 + (i % 3) as f64
                    },
                )
            })
            .collect();
        let picks = (0..100)
            .filter(|_| suggest_categorical(&ARGS, &history, 4, &mut u) == 2)
            .count();
        assert!(picks > 90, "{picks}");
    }

    #[test]
    fn numeric_suggestions_concentrate_near_the_good_region() {
        // Loss (x - 0.7)²: proposals cluster near 0.7 inside [0, 1].
        let mut u = lcg();
        let history: Vec<(f64, f64)> = (0..60)
            .map(|i| {
                let x = (i as f64 * 0.618_034) % 1.0;
                (x, (x - 0.7) * (x - 0.7))
            })
            .collect();
        let picks: Vec<f64> = (0..50)
            .map(|_| suggest_number(&ARGS, &history, 0.5, 1.0, Some((0.0, 1.0)), &mut u))
            .collect();
        assert!(picks.iter().all(|x| (0.0..=1.0).contains(x)));
        let near = picks.iter().filter(|x| (*x - 0.7).abs() < 0.1).count();
        assert!(
            near >= 40,
            "{near} of 50 within 0.1 of the optimum: {picks:?}"
        );
    }

    #[test]
    fn truncated_mixture_density_integrates_to_one() {
        let m = adaptive_parzen(&ARGS, &[0.1, 0.15, 0.9], 0.5, 1.0, Some((0.0, 1.0)));
        let steps = 20_000;
        let integral: f64 = (0..steps)
            .map(|i| m.log_pdf((i as f64 + 0.5) / steps as f64).exp() / steps as f64)
            .sum();
        assert!((integral - 1.0).abs() < 1e-3, "{integral}");
    }
}
