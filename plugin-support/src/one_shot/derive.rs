//! From α to a discrete architecture, as DARTS derives its genotype: each layer choice
//! takes its strongest candidate other than `none`; an input choice over DARTS edges
//! keeps the `n_chosen` edges whose best non-`none` candidate is strongest (distinct
//! predecessors); other input choices keep their `n_chosen` strongest inputs.
//!
//! The collapse guard (beyond NNI): counts skip-connects and parameter-free operations
//! on the used edges of each group of decisions (the label up to its first `_`, e.g.
//! `normal`, `reduce`), can cap skip-connects per group as P-DARTS does (the weakest
//! ones give way to their edge's best other candidate), and can flag collapse as
//! DARTS+ does (early stopping once a group has that many skip-connects).

use super::ArchParams;
use archon_plugin_api::{Architecture, Options, PluginError, Result, SearchSpace, Selection};
use serde_json::Value;
use std::collections::BTreeMap;

/// What the collapse guard does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollapseGuard {
    /// At most this many skip-connects per group in the derived architecture.
    pub max_skip: Option<usize>,
    /// Flag collapse (and stop searching) once a group derives this many.
    pub stop_at_skip: Option<usize>,
}

impl CollapseGuard {
    /// The option keys [`from_options`](Self::from_options) reads.
    pub const KEYS: [&'static str; 2] = ["max_skip", "stop_at_skip"];

    /// Reads `max_skip` and `stop_at_skip`.
    pub fn from_options(options: &Options) -> Result<Self> {
        let get =
            |key: &str| -> Result<Option<usize>> { Ok(options.u64(key)?.map(|v| v as usize)) };
        let guard = CollapseGuard {
            max_skip: get("max_skip")?,
            stop_at_skip: get("stop_at_skip")?,
        };
        if guard.stop_at_skip == Some(0) {
            return Err(PluginError::invalid_input(
                "option stop_at_skip: 0 would stop before searching; use at least 1",
            ));
        }
        Ok(guard)
    }
}

/// Counts on the used edges of the derived architecture.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollapseStats {
    /// Skip-connects per group.
    pub skip: BTreeMap<String, usize>,
    /// Parameter-free operations (none, skip, pooling, identity) per group.
    pub param_free: BTreeMap<String, usize>,
}

impl CollapseStats {
    /// The most skip-connects in any group.
    pub fn max_skip(&self) -> usize {
        self.skip.values().copied().max().unwrap_or(0)
    }

    /// Epoch metrics: `skip_<group>` and `param_free_<group>`.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        for (g, n) in &self.skip {
            m.insert(format!("skip_{g}"), *n as f64);
        }
        for (g, n) in &self.param_free {
            m.insert(format!("param_free_{g}"), *n as f64);
        }
        m
    }
}

/// A derived architecture and its counts.
#[derive(Debug, Clone)]
pub struct Derived {
    /// NNI-format JSON.
    pub architecture: Value,
    /// Counts before any cap.
    pub stats: CollapseStats,
    /// Whether the guard's `stop_at_skip` is reached.
    pub collapsed: bool,
}

fn is_none(name: &str) -> bool {
    name == "none"
}

fn is_skip(name: &str) -> bool {
    name.starts_with("skip") || name == "identity"
}

fn is_param_free(name: &str) -> bool {
    is_none(name) || is_skip(name) || name.contains("pool")
}

fn group(label: &str) -> &str {
    label.split('_').next().unwrap_or(label)
}

/// The best active candidate of decision `k` by probability, other than `none` when
/// there is another, and other than those `exclude` rejects.
fn best(params: &ArchParams, k: usize, exclude: &dyn Fn(&str) -> bool) -> Option<(usize, f64)> {
    let p = params.probabilities(k);
    let names = &params.choices[k].candidates;
    let pick = |skip_none: bool| {
        params.active[k]
            .iter()
            .copied()
            .filter(|&i| !(exclude(&names[i]) || skip_none && is_none(&names[i])))
            .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
            .map(|i| (i, p[i]))
    };
    pick(true).or_else(|| pick(false))
}

impl ArchParams {
    /// Derives the architecture, counting (and, as `guard` says, capping) skips.
    pub fn derive(&self, guard: &CollapseGuard) -> Result<Derived> {
        let space = SearchSpace::from_json(&self.search_space)?;
        let index: BTreeMap<&str, usize> = self
            .choices
            .iter()
            .enumerate()
            .map(|(k, c)| (c.label.as_str(), k))
            .collect();
        let mut picked: Vec<Selection> = Vec::with_capacity(self.choices.len());
        // Layer choices that sit on an edge of an input choice, and whether it is used.
        let mut edge_used: BTreeMap<usize, bool> = BTreeMap::new();
        for (k, c) in self.choices.iter().enumerate() {
            if !c.is_input() {
                picked.push(Selection::One(best(self, k, &|_| false).map_or(0, |b| b.0)));
                continue;
            }
            let n = c.len();
            let strengths: Vec<f64> = if self.mixes(k) {
                self.probabilities(k)
            } else {
                c.edges
                    .iter()
                    .map(|e| {
                        e.as_deref()
                            .and_then(|l| index.get(l))
                            .and_then(|&j| best(self, j, &|_| false))
                            .map_or(0.0, |b| b.1)
                    })
                    .collect()
            };
            let keep = c
                .n_chosen
                .unwrap_or_else(|| strengths.iter().filter(|&&s| s >= 1.0 / n as f64).count());
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| strengths[b].total_cmp(&strengths[a]).then(a.cmp(&b)));
            let mut chosen: Vec<usize> = order.into_iter().take(keep.min(n)).collect();
            chosen.sort_unstable();
            for (i, e) in c.edges.iter().enumerate() {
                if let Some(&j) = e.as_deref().and_then(|l| index.get(l)) {
                    let used = chosen.contains(&i);
                    edge_used
                        .entry(j)
                        .and_modify(|u| *u |= used)
                        .or_insert(used);
                }
            }
            picked.push(Selection::Many(chosen));
        }
        let used = |k: usize| edge_used.get(&k).copied().unwrap_or(true);
        let name_of = |k: usize, sel: &Selection| match sel {
            Selection::One(i) => self.choices[k].candidates[*i].clone(),
            Selection::Many(_) => String::new(),
        };
        let mut stats = CollapseStats::default();
        for (k, c) in self.choices.iter().enumerate() {
            if c.is_input() || !used(k) {
                continue;
            }
            let name = name_of(k, &picked[k]);
            let g = group(&c.label).to_string();
            *stats.skip.entry(g.clone()).or_default() += usize::from(is_skip(&name));
            *stats.param_free.entry(g).or_default() += usize::from(is_param_free(&name));
        }
        if let Some(cap) = guard.max_skip {
            for (g, &count) in &stats.skip {
                if count <= cap {
                    continue;
                }
                // The group's used skip edges, weakest skip first.
                let mut skips: Vec<(usize, f64)> = (0..self.choices.len())
                    .filter(|&k| {
                        !self.choices[k].is_input()
                            && used(k)
                            && group(&self.choices[k].label) == g
                            && is_skip(&name_of(k, &picked[k]))
                    })
                    .map(|k| {
                        let p = self.probabilities(k);
                        (
                            k,
                            p[match picked[k] {
                                Selection::One(i) => i,
                                _ => 0,
                            }],
                        )
                    })
                    .collect();
                skips.sort_by(|a, b| a.1.total_cmp(&b.1));
                for &(k, _) in skips.iter().take(count - cap) {
                    if let Some((i, _)) = best(self, k, &is_skip) {
                        picked[k] = Selection::One(i);
                    }
                }
            }
        }
        // The space's order may differ from the decisions' order.
        let selections = space
            .choices()
            .iter()
            .map(|choice| {
                index
                    .get(choice.name())
                    .map(|&k| picked[k].clone())
                    .ok_or_else(|| {
                        PluginError::invalid_input(format!(
                            "the search space's choice {:?} is not among the supernet's decisions",
                            choice.name()
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let architecture = Architecture::new(&space, selections)?.to_json(&space);
        let collapsed = guard
            .stop_at_skip
            .is_some_and(|limit| stats.max_skip() >= limit);
        Ok(Derived {
            architecture,
            stats,
            collapsed,
        })
    }
}
