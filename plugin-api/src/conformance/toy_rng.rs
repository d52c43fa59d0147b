//! The toy supernet's own random generator (SplitMix64), so that a toy search is a
//! function of its seed alone. libtorch's process-global generator is shared by every
//! thread of the process — the host, plugins, and the other tests running beside a
//! test — so anything drawn from it can differ from run to run.

use tch::{Device, Kind, Tensor};

/// A small seeded generator for the toy supernet's data, noise, dropout and weights.
#[derive(Debug, Clone)]
pub(crate) struct ToyRng(u64);

impl ToyRng {
    pub(crate) fn new(seed: u64) -> Self {
        ToyRng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// U[0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// N(0, 1) (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn tensor(&mut self, shape: &[i64], mut draw: impl FnMut(&mut Self) -> f64) -> Tensor {
        let n: i64 = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| draw(self) as f32).collect();
        Tensor::from_slice(&values)
            .view(shape)
            .to_kind(Kind::Float)
            .to_device(Device::Cpu)
    }

    /// A `[shape]` tensor of N(0, 1) draws.
    pub(crate) fn normal_tensor(&mut self, shape: &[i64]) -> Tensor {
        self.tensor(shape, Self::normal)
    }

    /// A `[shape]` tensor of U(-bound, bound) draws.
    pub(crate) fn uniform_tensor(&mut self, shape: &[i64], bound: f64) -> Tensor {
        self.tensor(shape, |r| (2.0 * r.uniform() - 1.0) * bound)
    }

    /// A `[shape]` tensor of 1 (probability `keep`) and 0.
    pub(crate) fn keep_mask(&mut self, shape: &[i64], keep: f64) -> Tensor {
        self.tensor(shape, |r| f64::from(u8::from(r.uniform() < keep)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_numbers_whatever_libtorch_does() {
        tch::manual_seed(1);
        let a = ToyRng::new(3).normal_tensor(&[4, 2]);
        let _ = Tensor::randn([100], (Kind::Float, Device::Cpu));
        let b = ToyRng::new(3).normal_tensor(&[4, 2]);
        assert!(a.equal(&b));
        assert!(!a.equal(&ToyRng::new(4).normal_tensor(&[4, 2])));
        let mut r = ToyRng::new(1);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
