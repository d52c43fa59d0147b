//! From α to a discrete architecture, as DARTS derives its genotype: each layer choice
//! takes its strongest candidate other than a zero operation (`none`); an input choice
//! over DARTS edges keeps the `n_chosen` edges whose best non-zero candidate is
//! strongest (distinct predecessors); other input choices keep their `n_chosen`
//! strongest inputs.
//!
//! The collapse guard (beyond NNI): counts skip-connects (candidates whose role is
//! identity) and parameter-free operations on the used edges of each group of decisions
//! (as the space declares groups, e.g. `normal`, `reduce`; `all` for decisions without
//! one), can cap skip-connects per group as P-DARTS does (the weakest ones give way to
//! their edge's best other candidate), and can flag collapse as DARTS+ does (early
//! stopping once a group has that many skip-connects). Everything goes by the
//! candidates' roles, never their names.

use super::ArchParams;
use archon_plugin_api::{
    one_shot::{CandidateRole, ChoiceInfo},
    Architecture, PluginError, Result, SearchSpace, Selection,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// What the collapse guard does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollapseGuard {
    /// At most this many skip-connects per group in the derived architecture.
    pub max_skip: Option<usize>,
    /// Flag collapse (and stop searching) once a group derives this many.
    pub stop_at_skip: Option<usize>,
    /// At most this many parameter-free operations (zero, identity, pooling, …) per
    /// group in the derived architecture: the weakest give way to their edge's best
    /// parametric candidate.
    pub max_param_free: Option<usize>,
}

/// Counts on the used edges of the derived architecture.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollapseStats {
    /// Skip-connects per group.
    pub skip: BTreeMap<String, usize>,
    /// Parameter-free operations (zero, identity, pooling, other parameter-free) per
    /// group.
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

/// The group a decision is counted in: the one its space declares, else `all`.
fn group(c: &ChoiceInfo) -> &str {
    c.group.as_deref().unwrap_or("all")
}

/// The best active candidate of decision `k` by probability, other than a zero
/// operation when there is another, and other than those whose role `exclude` rejects.
fn best(
    params: &ArchParams,
    k: usize,
    exclude: &dyn Fn(CandidateRole) -> bool,
) -> Option<(usize, f64)> {
    let p = params.probabilities(k);
    let c = &params.choices[k];
    let pick = |skip_zero: bool| {
        params.active[k]
            .iter()
            .copied()
            .filter(|&i| !(exclude(c.role(i)) || skip_zero && c.role(i) == CandidateRole::Zero))
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
                let beta = self.edge_normalization().then(|| self.probabilities(k));
                c.edges
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let op = e
                            .as_deref()
                            .and_then(|l| index.get(l))
                            .and_then(|&j| best(self, j, &|_| false))
                            .map_or(0.0, |b| b.1);
                        op * beta.as_ref().map_or(1.0, |b| b[i])
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
        let role_of = |k: usize, sel: &Selection| match sel {
            Selection::One(i) => self.choices[k].role(*i),
            Selection::Many(_) | Selection::Number(_) => CandidateRole::Input,
        };
        let is_skip = |role: CandidateRole| role == CandidateRole::Identity;
        let mut stats = CollapseStats::default();
        for (k, c) in self.choices.iter().enumerate() {
            if c.is_input() || !used(k) {
                continue;
            }
            let role = role_of(k, &picked[k]);
            let g = group(c).to_string();
            *stats.skip.entry(g.clone()).or_default() += usize::from(is_skip(role));
            *stats.param_free.entry(g).or_default() += usize::from(role.is_parameter_free());
        }
        let param_free = |role: CandidateRole| role.is_parameter_free();
        for (cap, counts, kind) in [
            (
                guard.max_skip,
                &stats.skip,
                &is_skip as &dyn Fn(CandidateRole) -> bool,
            ),
            (guard.max_param_free, &stats.param_free, &param_free),
        ] {
            let Some(cap) = cap else { continue };
            for (g, _) in counts.iter() {
                // The group's used edges of this kind now (an earlier cap may have
                // changed some), weakest first.
                let mut edges: Vec<(usize, f64)> = (0..self.choices.len())
                    .filter(|&k| {
                        !self.choices[k].is_input()
                            && used(k)
                            && group(&self.choices[k]) == g
                            && kind(role_of(k, &picked[k]))
                    })
                    .map(|k| {
                        let p = self.probabilities(k);
                        let i = match picked[k] {
                            Selection::One(i) => i,
                            _ => 0,
                        };
                        (k, p[i])
                    })
                    .collect();
                if edges.len() <= cap {
                    continue;
                }
                edges.sort_by(|a, b| a.1.total_cmp(&b.1));
                let excess = edges.len() - cap;
                for &(k, _) in edges.iter().take(excess) {
                    if let Some((i, _)) = best(self, k, kind) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::one_shot::ArchOptim;
    use archon_plugin_api::{
        one_shot::{DecisionKind, SearchDevice, SearchInfo},
        serde_json::json,
        tch::Tensor,
    };

    const OPS: [&str; 3] = ["none", "skip_connect", "sep_conv_3x3"];
    const ROLES: [CandidateRole; 3] = [
        CandidateRole::Zero,
        CandidateRole::Identity,
        CandidateRole::Parametric,
    ];

    /// A DARTS-like cell of two nodes: n2 over p0, p1 and n3 over p0, p1, p2; every
    /// edge's α given as (none, skip, sep).
    fn params(alphas: &[[f32; 3]; 5]) -> ArchParams {
        params_named(alphas, OPS)
    }

    /// The same cell with its ops called `names` (same roles).
    fn params_named(alphas: &[[f32; 3]; 5], names: [&str; 3]) -> ArchParams {
        let layer = |label: &str| ChoiceInfo {
            label: label.into(),
            kind: DecisionKind::Layer,
            candidates: names.iter().map(|s| s.to_string()).collect(),
            roles: ROLES.to_vec(),
            group: Some("normal".into()),
            n_chosen: None,
            edges: Vec::new(),
        };
        let switch = |node: usize| ChoiceInfo {
            label: format!("normal_n{node}_switch"),
            kind: DecisionKind::Input,
            candidates: (0..node).map(|i| format!("p{i}")).collect(),
            roles: Vec::new(),
            group: Some("normal".into()),
            n_chosen: Some(2),
            edges: (0..node)
                .map(|i| Some(format!("normal_n{node}_p{i}")))
                .collect(),
        };
        let choices = vec![
            switch(2),
            layer("normal_n2_p0"),
            layer("normal_n2_p1"),
            switch(3),
            layer("normal_n3_p0"),
            layer("normal_n3_p1"),
            layer("normal_n3_p2"),
        ];
        let mut space = serde_json::Map::new();
        for c in &choices {
            let value = if c.is_input() {
                json!({"_type": "input_choice", "_value": {"candidates": c.candidates, "n_chosen": 2}})
            } else {
                json!({"_type": "layer_choice", "_value": c.candidates})
            };
            space.insert(c.label.clone(), value);
        }
        let info = SearchInfo {
            space: "test".into(),
            choices,
            cell_based: true,
            search_space: Value::Object(space),
            epochs: 1,
            steps_per_epoch: 1,
            batch_size: 1,
            device: SearchDevice::Cpu,
            seed: 0,
            limits: Default::default(),
        };
        let params = ArchParams::new(&info, ArchOptim::default()).unwrap();
        let layers = [1, 2, 4, 5, 6];
        archon_plugin_api::tch::no_grad(|| {
            for (k, a) in layers.iter().zip(alphas) {
                params.alphas[*k]
                    .shallow_clone()
                    .copy_(&Tensor::from_slice(a));
            }
        });
        params
    }

    fn op(arch: &Value, label: &str) -> String {
        arch[label]["_value"].as_str().unwrap().to_string()
    }

    #[test]
    fn edges_are_ranked_by_their_best_op_other_than_none() {
        // n3: p0's best op other than none is weak (0.36), p1's strong; on p2 none is
        // the strongest op but does not count: its sep_conv (0.38) still beats p0.
        let p = params(&[
            [0.0, 0.0, 2.0],
            [0.0, 2.0, 0.0],
            [0.0, 0.1, 0.0],
            [0.0, 3.0, 0.0],
            [5.0, 0.0, 4.5],
        ]);
        let d = p.derive(&CollapseGuard::default()).unwrap();
        assert_eq!(d.architecture["normal_n3_switch"]["_idx"], json!([1, 2]));
        assert_eq!(op(&d.architecture, "normal_n3_p2"), "sep_conv_3x3");
        // Used edges: n2 p0 sep, n2 p1 skip, n3 p1 skip, n3 p2 sep.
        assert_eq!(d.stats.skip["normal"], 2);
        assert_eq!(d.stats.param_free["normal"], 2);
        assert!(!d.collapsed);
    }

    #[test]
    fn the_guard_caps_skips_keeping_the_strongest_and_flags_collapse() {
        let p = params(&[
            [0.0, 1.0, 0.0],
            [0.0, 3.0, 0.0],
            [0.0, 0.0, 0.0],
            [0.0, 2.0, 0.5],
            [0.0, 4.0, 1.0],
        ]);
        let free = p.derive(&CollapseGuard::default()).unwrap();
        assert_eq!(free.stats.skip["normal"], 4);
        let guard = CollapseGuard {
            max_skip: Some(2),
            stop_at_skip: Some(3),
            ..CollapseGuard::default()
        };
        let d = p.derive(&guard).unwrap();
        assert!(d.collapsed, "4 skips reached stop_at_skip 3");
        // The two weakest skips (n2 p0 at α 1, n3 p1 at α 2) give way to sep_conv.
        assert_eq!(op(&d.architecture, "normal_n2_p0"), "sep_conv_3x3");
        assert_eq!(op(&d.architecture, "normal_n3_p1"), "sep_conv_3x3");
        assert_eq!(op(&d.architecture, "normal_n2_p1"), "skip_connect");
        assert_eq!(op(&d.architecture, "normal_n3_p2"), "skip_connect");
    }

    #[test]
    fn the_guard_caps_every_parameter_free_role_keeping_the_strongest() {
        let p = params(&[
            [0.0, 1.0, 0.0],
            [0.0, 3.0, 0.0],
            [0.0, 0.0, 0.0],
            [0.0, 2.0, 0.5],
            [0.0, 4.0, 1.0],
        ]);
        let guard = CollapseGuard {
            max_param_free: Some(1),
            ..CollapseGuard::default()
        };
        let d = p.derive(&guard).unwrap();
        // Counts are before the cap; only the strongest skip (n3 p2, α 4) stays.
        assert_eq!(d.stats.param_free["normal"], 4);
        assert_eq!(op(&d.architecture, "normal_n3_p2"), "skip_connect");
        for label in ["normal_n2_p0", "normal_n2_p1", "normal_n3_p1"] {
            assert_eq!(op(&d.architecture, label), "sep_conv_3x3", "{label}");
        }
        // A cap at or above the count changes nothing.
        let loose = CollapseGuard {
            max_param_free: Some(4),
            ..CollapseGuard::default()
        };
        assert_eq!(
            p.derive(&loose).unwrap().architecture,
            p.derive(&CollapseGuard::default()).unwrap().architecture
        );
    }

    #[test]
    fn derivation_goes_by_roles_not_names() {
        let alphas = [
            [0.0, 1.0, 0.0],
            [0.0, 3.0, 0.0],
            [0.0, 0.0, 0.0],
            [0.0, 2.0, 0.5],
            [4.0, 0.0, 1.0],
        ];
        let guard = CollapseGuard {
            max_skip: Some(1),
            stop_at_skip: Some(3),
            ..CollapseGuard::default()
        };
        let plain = params(&alphas).derive(&guard).unwrap();
        let renamed = params_named(&alphas, ["zero_op", "pass", "conv"])
            .derive(&guard)
            .unwrap();
        for (label, entry) in plain.architecture.as_object().unwrap() {
            assert_eq!(
                entry["_idx"], renamed.architecture[label]["_idx"],
                "{label}"
            );
        }
        assert_eq!(plain.stats, renamed.stats);
        // The zero op (α 4 on n3 p2) is passed over for the next best (that edge is
        // not kept); all four used edges are skips before the cap.
        assert_eq!(op(&renamed.architecture, "normal_n3_p2"), "conv");
        assert_eq!(renamed.stats.skip["normal"], 4);
    }
}
