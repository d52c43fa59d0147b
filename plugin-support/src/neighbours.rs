//! One-edit neighbours of an architecture, shared by the `local_search` tuner (which
//! walks them) and the `gp` tuner (which climbs its acquisition through them).
//!
//! A neighbour changes one active choice point and nothing else that matters:
//! - a layer choice or a `choice`: every other candidate (at most [`MAX_OTHERS`] of
//!   them, drawn at random, for a choice with more);
//! - a `randint`: the integers one step and a tenth of its range away (it is ordered);
//! - an input choice of `n_chosen` inputs: one chosen input swapped for an unchosen one
//!   (any-subset input choices: one input added or dropped);
//! - a number: one step up and one step down in its prior's space — a tenth of the
//!   range for uniform types, half a deviation for normal ones, at least one `q` for
//!   quantized types — clipped into its bounds;
//! - a nested choice: another candidate, whose sub-parameters (inactive until now) are
//!   drawn at random.

use crate::SeededRng;
use archon_plugin_api::space::{ChoiceKind, Numeric, Prior, Real};
use archon_plugin_api::{SearchSpace, Selection};
use std::collections::HashSet;

/// The most other candidates of one choice that are neighbours (a choice with more
/// gives a random sample of them).
pub const MAX_OTHERS: usize = 32;

/// The step of a number's neighbours, in its prior's space: a tenth of a uniform
/// range, half a normal deviation.
fn step(numeric: &Numeric) -> f64 {
    match numeric.prior() {
        Prior::Uniform { low, high } => 0.1 * (high - low),
        Prior::Normal { sigma, .. } => 0.5 * sigma,
    }
}

/// The two numbers next to `value` (fewer at a bound or where rounding to `q` makes a
/// step land on `value` itself).
fn number_neighbours(numeric: &Numeric, value: f64) -> Vec<f64> {
    let draw = numeric.draw_of_value(value);
    let mut out = Vec::new();
    for sign in [-1.0, 1.0] {
        let mut v = numeric.value_of_draw(draw + sign * step(numeric));
        if v == value {
            // A quantized value needs at least one q to move.
            if let Some(q) = numeric.q {
                v = numeric.value_of_draw(numeric.draw_of_value(value + sign * q));
            }
        }
        if v != value && v.is_finite() && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The selections one edit away at choice point `k` (not yet canonical).
fn edits(
    space: &SearchSpace,
    k: usize,
    current: &Selection,
    rng: &mut SeededRng,
) -> Vec<Selection> {
    let choice = &space.choices()[k];
    match (choice.kind(), current) {
        (ChoiceKind::RandInt { lower, upper }, Selection::One(i)) => {
            let n = (upper - lower) as usize;
            let far = (n / 10).max(1);
            let mut out: Vec<Selection> = Vec::new();
            for j in [
                i.checked_sub(far),
                i.checked_sub(1),
                Some(i + 1),
                Some(i + far),
            ]
            .into_iter()
            .flatten()
            {
                if j < n && j != *i && !out.contains(&Selection::One(j)) {
                    out.push(Selection::One(j));
                }
            }
            out
        }
        (ChoiceKind::Numeric(numeric), Selection::Number(Real(x))) => {
            number_neighbours(numeric, *x)
                .into_iter()
                .map(|v| Selection::Number(Real(v)))
                .collect()
        }
        (
            ChoiceKind::Input {
                candidates,
                n_chosen,
            },
            Selection::Many(chosen),
        ) => {
            let unchosen: Vec<usize> = (0..candidates.len())
                .filter(|i| !chosen.contains(i))
                .collect();
            let mut out = Vec::new();
            if n_chosen.is_some() {
                for (pos, _) in chosen.iter().enumerate() {
                    for &j in &unchosen {
                        let mut set = chosen.clone();
                        set[pos] = j;
                        set.sort_unstable();
                        out.push(Selection::Many(set));
                    }
                }
            } else {
                for i in 0..candidates.len() {
                    let mut set = chosen.clone();
                    match set.iter().position(|&c| c == i) {
                        Some(p) => {
                            set.remove(p);
                        }
                        None => {
                            set.push(i);
                            set.sort_unstable();
                        }
                    }
                    out.push(Selection::Many(set));
                }
            }
            out
        }
        (_, Selection::One(i)) => {
            let n = choice.num_candidates();
            if n <= MAX_OTHERS + 1 {
                return (0..n).filter(|j| j != i).map(Selection::One).collect();
            }
            let mut picked = HashSet::new();
            while picked.len() < MAX_OTHERS {
                let j = rng.below(n as u128) as usize;
                if j != *i {
                    picked.insert(j);
                }
            }
            let mut picked: Vec<usize> = picked.into_iter().collect();
            picked.sort_unstable();
            picked.into_iter().map(Selection::One).collect()
        }
        _ => Vec::new(),
    }
}

/// Every one-edit neighbour of `selections` (canonical, distinct, none equal to it),
/// in the space's order; sub-parameters that a nested edit activates are drawn with
/// `rng`.
pub fn neighbours(
    space: &SearchSpace,
    selections: &[Selection],
    rng: &mut SeededRng,
) -> Vec<Vec<Selection>> {
    let mut out: Vec<Vec<Selection>> = Vec::new();
    let mut distinct: HashSet<Vec<Selection>> = HashSet::new();
    for k in 0..space.choices().len() {
        if !space.is_active(k, selections) {
            continue;
        }
        for edit in edits(space, k, &selections[k], rng) {
            let mut child = selections.to_vec();
            child[k] = edit;
            if space.choices()[k].is_nested() {
                for m in 0..child.len() {
                    if space.is_active(m, &child) && !space.is_active(m, selections) {
                        child[m] = space.choices()[m].sample(&mut |n| rng.below(n));
                    }
                }
            }
            let child = space.canonical(child);
            if child != selections && distinct.insert(child.clone()) {
                out.push(child);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use archon_plugin_api::Architecture;

    #[test]
    fn categorical_neighbours_change_one_choice() {
        let space = SearchSpace::from_json_str(
            r#"{"a": {"_type": "layer_choice", "_value": ["x", "y", "z"]},
                "b": {"_type": "choice", "_value": [1]},
                "c": {"_type": "input_choice", "_value": {"candidates": ["p", "q", "r"], "n_chosen": 2}},
                "d": {"_type": "input_choice", "_value": {"candidates": ["u", "v"]}}}"#,
        )
        .unwrap();
        let parent = vec![
            Selection::One(0),
            Selection::One(0),
            Selection::Many(vec![0, 1]),
            Selection::Many(vec![1]),
        ];
        let n = neighbours(&space, &parent, &mut SeededRng::new(0));
        // a: 2 others; b: none; c: 2 chosen × 1 unchosen; d: toggle u or v.
        assert_eq!(n.len(), 2 + 2 + 2, "{n:?}");
        assert!(n.contains(&vec![
            Selection::One(0),
            Selection::One(0),
            Selection::Many(vec![1, 2]),
            Selection::Many(vec![1]),
        ]));
        assert!(n.contains(&vec![
            Selection::One(0),
            Selection::One(0),
            Selection::Many(vec![0, 1]),
            Selection::Many(vec![]),
        ]));
        for child in n {
            let changed = child.iter().zip(&parent).filter(|(a, b)| a != b).count();
            assert_eq!(changed, 1, "{child:?}");
            Architecture::new(&space, child).unwrap();
        }
    }

    #[test]
    fn a_randint_steps_and_a_huge_choice_is_sampled() {
        let space = SearchSpace::from_json_str(
            r#"{"n": {"_type": "randint", "_value": [0, 1000000000000]},
                "big": {"_type": "choice", "_value": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                    32, 33, 34, 35, 36, 37, 38, 39]}}"#,
        )
        .unwrap();
        let parent = vec![Selection::One(5), Selection::One(0)];
        let n = neighbours(&space, &parent, &mut SeededRng::new(0));
        let steps: Vec<&Selection> = n
            .iter()
            .filter(|c| c[0] != parent[0])
            .map(|c| &c[0])
            .collect();
        // One down, one up, a tenth of the range up (a tenth down is below 0).
        assert_eq!(
            steps,
            vec![
                &Selection::One(4),
                &Selection::One(6),
                &Selection::One(100_000_000_005)
            ]
        );
        assert_eq!(n.len(), 3 + MAX_OTHERS);
    }

    #[test]
    fn numbers_step_inside_their_bounds() {
        let space = SearchSpace::from_json_str(
            r#"{"x": {"_type": "uniform", "_value": [0, 10]},
                "q": {"_type": "quniform", "_value": [0, 100, 5]},
                "lr": {"_type": "loguniform", "_value": [0.001, 1]}}"#,
        )
        .unwrap();
        let number = |v: f64| Selection::Number(Real(v));
        let parent = vec![number(0.0), number(50.0), number(0.01)];
        let n = neighbours(&space, &parent, &mut SeededRng::new(0));
        let xs: Vec<f64> = n
            .iter()
            .filter_map(|c| match c[0] {
                Selection::Number(Real(v)) if c[0] != parent[0] => Some(v),
                _ => None,
            })
            .collect();
        assert_eq!(xs, vec![1.0], "at the lower bound only the step up");
        let qs: Vec<f64> = n
            .iter()
            .filter_map(|c| match c[1] {
                Selection::Number(Real(v)) if c[1] != parent[1] => Some(v),
                _ => None,
            })
            .collect();
        assert_eq!(qs, vec![40.0, 60.0]);
        let lrs: Vec<f64> = n
            .iter()
            .filter_map(|c| match c[2] {
                Selection::Number(Real(v)) if c[2] != parent[2] => Some(v),
                _ => None,
            })
            .collect();
        // A tenth of the log range (3 decades) either way: a factor 10^0.3.
        assert_eq!(lrs.len(), 2);
        assert!((lrs[0] - 0.01 / 10f64.powf(0.3)).abs() < 1e-9, "{lrs:?}");
        for child in n {
            Architecture::new(&space, child).unwrap();
        }
    }

    #[test]
    fn a_nested_edit_draws_the_newly_active_sub_parameters() {
        let space = SearchSpace::from_json_str(
            r#"{"layer": {"_type": "choice", "_value": [
                    {"_name": "empty"},
                    {"_name": "conv", "kernel": {"_type": "choice", "_value": [3, 5, 7]}}]}}"#,
        )
        .unwrap();
        let parent = space.canonical(vec![Selection::One(0), Selection::One(0)]);
        let n = neighbours(&space, &parent, &mut SeededRng::new(1));
        assert_eq!(n.len(), 1, "{n:?}");
        assert_eq!(n[0][0], Selection::One(1));
        // From conv: kernel's two other values, and back to empty.
        let conv = vec![Selection::One(1), Selection::One(2)];
        let n = neighbours(&space, &conv, &mut SeededRng::new(1));
        assert_eq!(n.len(), 3, "{n:?}");
        assert!(n.contains(&space.canonical(vec![Selection::One(0), Selection::One(0)])));
    }
}
