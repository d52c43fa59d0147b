//! Sampling architectures uniformly without replacement.

use archon_plugin_api::{Architecture, PluginError, Result, SearchSpace, Selection};
use archon_plugin_support::SeededRng;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// How many redraws a huge space gets before giving up on finding an unseen one.
const MAX_REDRAWS: usize = 1000;

/// Sampling state for one search space.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) enum Sampler {
    /// A countable space: a sparse Fisher–Yates shuffle of `0..size`.
    Numbered {
        /// Architectures drawn so far.
        #[serde(with = "u128_text")]
        drawn: u128,
        /// The displaced entries of the virtual permutation (position → number).
        #[serde(with = "swaps_text")]
        swaps: HashMap<u128, u128>,
    },
    /// A space too large to number: independent draws, repeats rejected.
    Huge { seen: HashSet<Vec<Selection>> },
    /// No search space yet.
    #[default]
    Empty,
}

impl Sampler {
    pub(crate) fn for_space(space: &SearchSpace) -> Self {
        match space.size() {
            Some(_) => Sampler::Numbered {
                drawn: 0,
                swaps: HashMap::new(),
            },
            None => Sampler::Huge {
                seen: HashSet::new(),
            },
        }
    }

    /// The next unseen architecture, or `None` when there is none left.
    pub(crate) fn next(
        &mut self,
        space: &SearchSpace,
        rng: &mut SeededRng,
    ) -> Result<Option<Architecture>> {
        match self {
            Sampler::Empty => Err(PluginError::invalid_state("no search space yet")),
            Sampler::Numbered { drawn, swaps } => {
                let size = space.size().ok_or_else(|| {
                    PluginError::internal("numbered sampler on an uncountable space")
                })?;
                if *drawn >= size {
                    return Ok(None);
                }
                // Swap position `drawn` with a uniform position in drawn..size.
                let j = *drawn + rng.below(size - *drawn);
                let picked = swaps.get(&j).copied().unwrap_or(j);
                let displaced = swaps.remove(drawn).unwrap_or(*drawn);
                if j != *drawn {
                    swaps.insert(j, displaced);
                }
                *drawn += 1;
                space.architecture_at(picked).map(Some).ok_or_else(|| {
                    PluginError::internal(format!("architecture number {picked} out of range"))
                })
            }
            Sampler::Huge { seen } => {
                for _ in 0..MAX_REDRAWS {
                    let selections: Vec<Selection> = space
                        .choices()
                        .iter()
                        .map(|c| c.sample(&mut |n| rng.below(n)))
                        .collect();
                    if seen.insert(selections.clone()) {
                        return Architecture::new(space, selections).map(Some);
                    }
                }
                Ok(None)
            }
        }
    }

    /// Checks that a restored state fits `space`.
    pub(crate) fn check_fits(&self, space: &SearchSpace) -> Result<()> {
        let fits = match (self, space.size()) {
            (Sampler::Numbered { drawn, swaps }, Some(size)) => {
                *drawn <= size && swaps.iter().all(|(k, v)| *k < size && *v < size)
            }
            (Sampler::Huge { seen }, None) => seen
                .iter()
                .all(|s| Architecture::new(space, s.clone()).is_ok()),
            _ => false,
        };
        if fits {
            Ok(())
        } else {
            Err(PluginError::invalid_input(
                "saved state: the sampler state does not fit the current search space (was it saved for another space?)",
            ))
        }
    }
}

/// u128 as a decimal string (JSON numbers lose precision past 2^53 in many readers).
mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The swap map as `[["position", "number"], ...]`, sorted for stable output.
mod swaps_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;
    pub fn serialize<S: Serializer>(v: &HashMap<u128, u128>, s: S) -> Result<S::Ok, S::Error> {
        let mut pairs: Vec<(u128, u128)> = v.iter().map(|(k, v)| (*k, *v)).collect();
        pairs.sort_unstable();
        let text: Vec<[String; 2]> = pairs
            .iter()
            .map(|(k, v)| [k.to_string(), v.to_string()])
            .collect();
        text.serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HashMap<u128, u128>, D::Error> {
        Vec::<[String; 2]>::deserialize(d)?
            .into_iter()
            .map(|[k, v]| {
                Ok((
                    k.parse().map_err(serde::de::Error::custom)?,
                    v.parse().map_err(serde::de::Error::custom)?,
                ))
            })
            .collect()
    }
}
