//! A seeded random generator whose whole state is two numbers, so a tuner's saved
//! state can restore it exactly (ChaCha8: the seed and the position in its stream).
//!
//! Plugins draw every random number from one of these, tensors included
//! ([`SeededRng::uniform_tensor`], [`SeededRng::normal_tensor`],
//! [`SeededRng::init_uniform`]), never from libtorch's process-global generator: that
//! one is shared by everything in the process (the host, other plugins, other tests'
//! threads), so a seed would not mean one result.

use archon_plugin_api::{
    tch::{nn, Device, Kind, Tensor},
    Options, PluginError, Result,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A seeded, resumable generator. Serialises as `{"seed": 42, "word_pos": "1234"}`.
#[derive(Debug, Clone)]
pub struct SeededRng {
    seed: u64,
    rng: ChaCha8Rng,
}

impl SeededRng {
    /// A generator at the start of `seed`'s stream.
    pub fn new(seed: u64) -> Self {
        SeededRng {
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// From the `seed` option, or a seed from the OS when there is none (it is kept
    /// in the saved state, so a resumed tuner continues the same stream).
    pub fn from_options(options: &Options) -> Result<Self> {
        Ok(Self::from_seed(options.u64("seed")?))
    }

    /// From a `seed` option already read, or a seed from the OS when there is none.
    pub fn from_seed(seed: Option<u64>) -> Self {
        Self::new(seed.unwrap_or_else(|| rand::rng().random()))
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Back to the start of the seed's stream.
    pub fn restart(&mut self) {
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
    }

    /// A uniform integer in `0..n` (`n` ≥ 1).
    pub fn below(&mut self, n: u128) -> u128 {
        self.rng.random_range(0..n.max(1))
    }

    /// The underlying generator, for `rand`'s methods.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// A standard normal number (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u: f64 = 1.0 - self.rng.random::<f64>(); // (0, 1]
        let v: f64 = self.rng.random();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A float tensor of `shape` on `device` with entries U(lo, hi).
    pub fn uniform_tensor(&mut self, shape: &[i64], lo: f64, hi: f64, device: Device) -> Tensor {
        let n: i64 = shape.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|_| self.rng.random_range(lo..hi) as f32)
            .collect();
        Tensor::from_slice(&values)
            .view(shape)
            .to_kind(Kind::Float)
            .to_device(device)
    }

    /// A float tensor of `shape` on `device` with entries N(mean, std²).
    pub fn normal_tensor(&mut self, shape: &[i64], mean: f64, std: f64, device: Device) -> Tensor {
        let n: i64 = shape.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|_| (mean + std * self.normal()) as f32)
            .collect();
        Tensor::from_slice(&values).view(shape).to_device(device)
    }

    /// Overwrites every variable of `vs` with U(-bound, bound) draws, variables in name
    /// order (a `VarStore`'s own order is a hash map's, different in every process).
    pub fn init_uniform(&mut self, vs: &nn::VarStore, bound: f64) {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, mut t) in vars {
            let fresh = self.uniform_tensor(&t.size(), -bound, bound, t.device());
            archon_plugin_api::tch::no_grad(|| t.copy_(&fresh));
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    seed: u64,
    word_pos: String,
}

impl Serialize for SeededRng {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Saved {
            seed: self.seed,
            word_pos: self.rng.get_word_pos().to_string(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SeededRng {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let saved = Saved::deserialize(d)?;
        let pos: u128 = saved.word_pos.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "word_pos {:?} is not a whole number",
                saved.word_pos
            ))
        })?;
        let mut rng = SeededRng::new(saved.seed);
        rng.rng.set_word_pos(pos);
        Ok(rng)
    }
}

/// Turns a JSON error about a saved state into the plugin error for it.
pub fn bad_state(plugin: &str, e: impl std::fmt::Display) -> PluginError {
    PluginError::invalid_input(format!("saved state: not a {plugin} state: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_generator_continues_the_stream() {
        let mut a = SeededRng::new(7);
        for _ in 0..5 {
            a.below(1000);
        }
        let json = serde_json::to_string(&a).unwrap();
        let mut b: SeededRng = serde_json::from_str(&json).unwrap();
        let next_a: Vec<u128> = (0..10).map(|_| a.below(1 << 100)).collect();
        let next_b: Vec<u128> = (0..10).map(|_| b.below(1 << 100)).collect();
        assert_eq!(next_a, next_b);
        assert!(serde_json::from_str::<SeededRng>(r#"{"seed": 1, "word_pos": "x"}"#).is_err());
    }

    #[test]
    fn tensors_follow_the_seed_not_libtorch_s_generator() {
        let draw = |seed| {
            archon_plugin_api::tch::manual_seed(seed as i64 + 100);
            let mut rng = SeededRng::new(seed);
            let n = rng.normal_tensor(&[3, 4], 0.0, 1.0, Device::Cpu);
            let u = rng.uniform_tensor(&[5], -0.1, 0.1, Device::Cpu);
            (
                Vec::<f32>::try_from(n.view([-1])).unwrap(),
                Vec::<f32>::try_from(u).unwrap(),
            )
        };
        let (a, b) = (draw(5), draw(5));
        assert_eq!(a, b);
        assert_ne!(a.0, draw(6).0);
        assert!(a.1.iter().all(|v| (-0.1..0.1).contains(v)), "{:?}", a.1);
        // Normal draws: mean near 0, spread near 1 over many.
        let mut rng = SeededRng::new(1);
        let many: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
        let mean = many.iter().sum::<f64>() / many.len() as f64;
        let var = many.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / many.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn init_uniform_is_the_same_in_every_process_order() {
        let init = || {
            let vs = nn::VarStore::new(Device::Cpu);
            for name in ["b", "a", "c", "d"] {
                let _ = vs.root().zeros(name, &[3]);
            }
            SeededRng::new(9).init_uniform(&vs, 0.5);
            let mut vars: Vec<(String, Vec<f32>)> = vs
                .variables()
                .into_iter()
                .map(|(k, v)| (k, Vec::<f32>::try_from(v).unwrap()))
                .collect();
            vars.sort_by(|a, b| a.0.cmp(&b.0));
            vars
        };
        let first = init();
        assert_eq!(first, init());
        assert!(first
            .iter()
            .all(|(_, v)| v.iter().all(|x| x.abs() < 0.5 && *x != 0.0)));
    }
}
