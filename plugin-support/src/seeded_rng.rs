//! A seeded random generator whose whole state is two numbers, so a tuner's saved
//! state can restore it exactly (ChaCha8: the seed and the position in its stream).

use archon_plugin_api::{Options, PluginError, Result};
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
        Ok(Self::new(match options.u64("seed")? {
            Some(seed) => seed,
            None => rand::rng().random(),
        }))
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
}
