//! Deterministic, seeded splits of a dataset.

use tch::{Device, Kind, Tensor};

/// Examples and labels held in memory.
#[derive(Debug)]
pub struct Dataset {
    /// `[N, C, H, W]` float images, or `[N, L]` int64 token ids.
    pub inputs: Tensor,
    /// `[N]` int64.
    pub labels: Tensor,
}

impl Dataset {
    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.size()[0] as usize
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The examples at `indices`.
    pub fn select(&self, indices: &Tensor) -> Dataset {
        Dataset {
            inputs: self.inputs.index_select(0, indices),
            labels: self.labels.index_select(0, indices),
        }
    }

    /// A seeded random permutation of the examples split at `fraction` (e.g. 0.5
    /// gives DARTS's weight-train / arch-valid halves). Same seed, same split.
    pub fn split(&self, fraction: f64, seed: u64) -> (Dataset, Dataset) {
        let order = permutation(self.len(), seed);
        let cut = ((self.len() as f64) * fraction.clamp(0.0, 1.0)).round() as i64;
        (
            self.select(&order.narrow(0, 0, cut)),
            self.select(&order.narrow(0, cut, self.len() as i64 - cut)),
        )
    }

    /// The first `n` examples of a seeded shuffle (all of them if `n` is larger).
    pub fn subset(&self, n: usize, seed: u64) -> Dataset {
        let order = permutation(self.len(), seed);
        self.select(&order.narrow(0, 0, n.min(self.len()) as i64))
    }

    /// The same data on `device`.
    pub fn to_device(&self, device: Device) -> Dataset {
        Dataset {
            inputs: self.inputs.to_device(device),
            labels: self.labels.to_device(device),
        }
    }
}

/// A seeded permutation of `0..n` that does not depend on (or disturb) libtorch's
/// global generator.
pub fn permutation(n: usize, seed: u64) -> Tensor {
    // SplitMix64 keys, sorted: a uniform permutation, reproducible everywhere.
    let mut state = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut keyed: Vec<(u64, i64)> = (0..n as i64)
        .map(|i| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31), i)
        })
        .collect();
    keyed.sort_unstable();
    Tensor::from_slice(&keyed.iter().map(|(_, i)| *i).collect::<Vec<_>>()).to_kind(Kind::Int64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: i64) -> Dataset {
        Dataset {
            inputs: Tensor::arange(n, (Kind::Float, Device::Cpu)).view([n, 1, 1, 1]),
            labels: Tensor::arange(n, (Kind::Int64, Device::Cpu)),
        }
    }

    #[test]
    fn splits_are_seeded_disjoint_and_complete() {
        let d = toy(100);
        let (a, b) = d.split(0.5, 7);
        let (a2, _) = d.split(0.5, 7);
        let (a3, _) = d.split(0.5, 8);
        assert_eq!((a.len(), b.len()), (50, 50));
        assert!(a.labels.equal(&a2.labels));
        assert!(!a.labels.equal(&a3.labels));
        let mut all = Vec::<i64>::try_from(Tensor::cat(&[a.labels, b.labels], 0)).unwrap();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(d.subset(10, 1).len(), 10);
        assert_eq!(d.subset(1000, 1).len(), 100);
    }
}
