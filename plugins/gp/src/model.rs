//! A Gaussian process on encoded points: a Matérn kernel of one length scale, a noise
//! term, the signal variance in closed form, chosen by marginal likelihood.

/// The Matérn kernel's smoothness (NNI's `nu`): 0.5, 1.5, 2.5, or infinity (the
/// squared exponential), the values with a closed form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nu {
    /// ν = 1/2: exp(−r).
    Half,
    /// ν = 3/2.
    ThreeHalves,
    /// ν = 5/2 (NNI's default).
    FiveHalves,
    /// ν = ∞: exp(−r²/2).
    Infinite,
}

impl Nu {
    /// The kernel at scaled distance `r`.
    fn k(self, r: f64) -> f64 {
        match self {
            Nu::Half => (-r).exp(),
            Nu::ThreeHalves => {
                let a = 3f64.sqrt() * r;
                (1.0 + a) * (-a).exp()
            }
            Nu::FiveHalves => {
                let a = 5f64.sqrt() * r;
                (1.0 + a + a * a / 3.0) * (-a).exp()
            }
            Nu::Infinite => (-0.5 * r * r).exp(),
        }
    }
}

/// Length scales tried, as multiples of √(number of choice points).
const LENGTH_SCALES: [f64; 9] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 3.0];
/// Noise tried, as a share of the signal variance (on top of `alpha`).
const NOISES: [f64; 5] = [0.0, 1e-3, 1e-2, 0.05, 0.2];

/// The kernel's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hyper {
    /// The length scale.
    pub length: f64,
    /// The noise, as a share of the signal variance.
    pub noise: f64,
}

/// A fitted GP.
#[derive(Debug, Clone)]
pub struct Gp {
    nu: Nu,
    hyper: Hyper,
    x: Vec<Vec<f64>>,
    /// Lower Cholesky factor of K/s² + noise·I (row-major n × n).
    chol: Vec<f64>,
    /// (K/s² + noise·I)⁻¹ y, y standardised.
    weights: Vec<f64>,
    /// The signal variance of the standardised y.
    signal: f64,
    y_mean: f64,
    y_std: f64,
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The lower Cholesky factor of the symmetric `a` (n × n, row-major), or `None` when it
/// is not positive definite.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves L z = b (L lower triangular).
fn forward(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * z[k];
        }
        z[i] = s / l[i * n + i];
    }
    z
}

/// Solves Lᵀ z = b.
fn backward(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * z[k];
        }
        z[i] = s / l[i * n + i];
    }
    z
}

impl Gp {
    /// The GP of `x` → `y` with `hyper` (or the settings of highest marginal likelihood
    /// on the grid when `None`; read them back with [`Gp::hyper`]). `alpha` is added to
    /// the diagonal (NNI's `alpha`); `choices` scales the length grid. `None` when no
    /// setting gives a positive definite matrix.
    pub fn fit(
        x: Vec<Vec<f64>>,
        y: &[f64],
        nu: Nu,
        alpha: f64,
        choices: usize,
        hyper: Option<Hyper>,
    ) -> Option<Gp> {
        let n = y.len();
        let y_mean = y.iter().sum::<f64>() / n as f64;
        let var = y.iter().map(|v| (v - y_mean).powi(2)).sum::<f64>() / n as f64;
        let y_std = if var > 0.0 { var.sqrt() } else { 1.0 };
        let ys: Vec<f64> = y.iter().map(|v| (v - y_mean) / y_std).collect();
        let d2: Vec<f64> = (0..n * n)
            .map(|ij| squared_distance(&x[ij / n], &x[ij % n]))
            .collect();
        let scale = (choices.max(1) as f64).sqrt();
        let grid: Vec<Hyper> = match hyper {
            Some(h) => vec![h],
            None => LENGTH_SCALES
                .iter()
                .flat_map(|&l| {
                    NOISES.iter().map(move |&g| Hyper {
                        length: l * scale,
                        noise: g,
                    })
                })
                .collect(),
        };
        let mut best: Option<(f64, Gp)> = None;
        for h in grid {
            let k: Vec<f64> = (0..n * n)
                .map(|ij| {
                    let diagonal = if ij / n == ij % n {
                        h.noise + alpha
                    } else {
                        0.0
                    };
                    nu.k(d2[ij].sqrt() / h.length) + diagonal
                })
                .collect();
            let Some(chol) = cholesky(&k, n) else {
                continue;
            };
            let z = forward(&chol, n, &ys);
            let quad: f64 = z.iter().map(|v| v * v).sum();
            // The signal variance that maximises the likelihood, and the likelihood
            // with it (constants dropped).
            let signal = (quad / n as f64).max(1e-12);
            let log_det: f64 = (0..n).map(|i| chol[i * n + i].ln()).sum();
            let log_likelihood = -0.5 * n as f64 * signal.ln() - log_det;
            if best.as_ref().is_none_or(|(b, _)| log_likelihood > *b) {
                let weights = backward(&chol, n, &z);
                best = Some((
                    log_likelihood,
                    Gp {
                        nu,
                        hyper: h,
                        x: Vec::new(),
                        chol,
                        weights,
                        signal,
                        y_mean,
                        y_std,
                    },
                ));
            }
        }
        best.map(|(_, mut gp)| {
            gp.x = x;
            gp
        })
    }

    /// The settings chosen.
    pub fn hyper(&self) -> Hyper {
        self.hyper
    }

    /// The posterior mean and standard deviation of the metric at `point`.
    pub fn predict(&self, point: &[f64]) -> (f64, f64) {
        let n = self.x.len();
        let k: Vec<f64> = self
            .x
            .iter()
            .map(|xi| {
                self.nu
                    .k(squared_distance(xi, point).sqrt() / self.hyper.length)
            })
            .collect();
        let mean: f64 = k.iter().zip(&self.weights).map(|(a, b)| a * b).sum();
        let v = forward(&self.chol, n, &k);
        let var = (1.0 - v.iter().map(|a| a * a).sum::<f64>()).max(0.0) * self.signal;
        (self.y_mean + self.y_std * mean, self.y_std * var.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_and_grows_uncertain_away_from_the_data() {
        let x: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64 / 7.0]).collect();
        let y: Vec<f64> = x.iter().map(|p| (6.0 * p[0]).sin()).collect();
        let gp = Gp::fit(x.clone(), &y, Nu::FiveHalves, 1e-6, 1, None).unwrap();
        for (p, t) in x.iter().zip(&y) {
            let (m, s) = gp.predict(p);
            assert!((m - t).abs() < 0.05, "at {p:?}: {m} vs {t}");
            assert!(s < 0.1, "at a data point the deviation is small: {s}");
        }
        let (m, _) = gp.predict(&[0.5]);
        assert!((m - 3f64.sin()).abs() < 0.1, "between points: {m}");
        let (_, far) = gp.predict(&[3.0]);
        let (_, near) = gp.predict(&[0.5]);
        assert!(far > 5.0 * near, "far {far} near {near}");
    }

    #[test]
    fn cholesky_solves() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let l = cholesky(&a, 2).unwrap();
        let z = backward(&l, 2, &forward(&l, 2, &[2.0, 1.0]));
        // A z = b.
        assert!((4.0 * z[0] + 2.0 * z[1] - 2.0).abs() < 1e-12);
        assert!((2.0 * z[0] + 3.0 * z[1] - 1.0).abs() < 1e-12);
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }

    #[test]
    fn constant_data_is_fitted_without_dividing_by_zero() {
        let x = vec![vec![0.0], vec![1.0]];
        let gp = Gp::fit(x, &[3.0, 3.0], Nu::Half, 1e-6, 1, None).unwrap();
        let (m, s) = gp.predict(&[0.5]);
        assert!((m - 3.0).abs() < 1e-9 && s.is_finite(), "{m} {s}");
    }
}
