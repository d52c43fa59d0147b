//! An exponential moving average of a network's weights (and batch-norm statistics),
//! the "EMA" of modern training recipes: evaluated in place of the last weights, and
//! kept at the end of training.

use tch::{nn::VarStore, Tensor};

/// The running average of every variable of one var store.
pub struct WeightAverage {
    decay: f64,
    updates: u64,
    /// `(variable, its average)` pairs.
    pairs: Vec<(Tensor, Tensor)>,
}

impl WeightAverage {
    /// Starts the average at the current weights of `vs`.
    pub fn new(vs: &VarStore, decay: f64) -> Self {
        let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let pairs = named
            .into_iter()
            .map(|(_, t)| {
                let avg = t.detach().copy();
                (t, avg)
            })
            .collect();
        WeightAverage {
            decay,
            updates: 0,
            pairs,
        }
    }

    /// Folds the current weights in. Early on the decay is lower
    /// (`min(decay, (1 + n) / (10 + n))`), so the average does not stay anchored
    /// to the random initialisation.
    pub fn update(&mut self) {
        self.updates += 1;
        let n = self.updates as f64;
        let d = self.decay.min((1.0 + n) / (10.0 + n));
        tch::no_grad(|| {
            for (var, avg) in &mut self.pairs {
                // avg = d * avg + (1 - d) * var
                let _ = avg.g_mul_scalar_(d);
                let _ = avg.g_add_(&(var.detach() * (1.0 - d)));
            }
        });
    }

    /// Swaps the averages and the live weights (twice restores them).
    pub fn swap(&mut self) {
        tch::no_grad(|| {
            for (var, avg) in &mut self.pairs {
                let live = var.detach().copy();
                var.copy_(avg);
                avg.copy_(&live);
            }
        });
    }

    /// Runs `f` with the averaged weights in place, then puts the live ones back.
    pub fn with_average<T>(&mut self, f: impl FnOnce() -> T) -> T {
        self.swap();
        let out = f();
        self.swap();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn the_average_lags_the_weights_and_swaps_back() {
        let vs = VarStore::new(Device::Cpu);
        let w = vs.root().zeros("w", &[3]);
        let mut avg = WeightAverage::new(&vs, 0.5);
        tch::no_grad(|| {
            let _ = w.shallow_clone().fill_(1.0);
        });
        avg.update(); // d = min(0.5, 2/11): the average moves most of the way
        let d = 2.0 / 11.0;
        let expected = 1.0 - d;
        let got = avg.with_average(|| w.double_value(&[0]));
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
        assert_eq!(w.double_value(&[1]), 1.0, "live weights restored");
    }
}
