//! Evolution operators on architectures, shared by the classic `evolution` tuner and
//! the one-shot `spos` search.

use crate::SeededRng;
use archon_plugin_api::{SearchSpace, Selection};
use rand::Rng;

/// A mutation of `parent`: each choice redrawn with probability `prob`, and at least
/// one choice changed when any can change.
pub fn mutate(
    space: &SearchSpace,
    parent: &[Selection],
    prob: f64,
    rng: &mut SeededRng,
) -> Vec<Selection> {
    let mut child = parent.to_vec();
    for (i, choice) in space.choices().iter().enumerate() {
        if rng.rng().random_bool(prob.clamp(0.0, 1.0)) {
            child[i] = choice.sample(&mut |n| rng.below(n));
        }
    }
    if child == parent {
        let changeable: Vec<usize> = (0..space.choices().len())
            .filter(|&i| space.choices()[i].num_selections() != Some(1))
            .collect();
        if !changeable.is_empty() {
            let i = changeable[rng.below(changeable.len() as u128) as usize];
            let choice = &space.choices()[i];
            while child[i] == parent[i] {
                child[i] = choice.sample(&mut |n| rng.below(n));
            }
        }
    }
    child
}

/// Uniform crossover: each choice taken from `a` or `b` with equal probability.
pub fn crossover(a: &[Selection], b: &[Selection], rng: &mut SeededRng) -> Vec<Selection> {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            if rng.rng().random_bool(0.5) {
                x.clone()
            } else {
                y.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> SearchSpace {
        SearchSpace::from_json_str(
            r#"{"a": {"_type": "layer_choice", "_value": ["x", "y", "z"]},
                "b": {"_type": "choice", "_value": [1]},
                "c": {"_type": "input_choice", "_value": {"candidates": ["p", "q", "r"], "n_chosen": 2}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_mutation_changes_something_and_stays_valid() {
        let space = space();
        let mut rng = SeededRng::new(3);
        let parent = vec![
            Selection::One(0),
            Selection::One(0),
            Selection::Many(vec![0, 1]),
        ];
        for _ in 0..50 {
            let child = mutate(&space, &parent, 0.0, &mut rng);
            assert_ne!(child, parent);
            archon_plugin_api::Architecture::new(&space, child).unwrap();
        }
    }

    #[test]
    fn crossover_takes_each_choice_from_a_parent() {
        let mut rng = SeededRng::new(5);
        let a = vec![Selection::One(0), Selection::One(0)];
        let b = vec![Selection::One(1), Selection::One(1)];
        let mut seen = std::collections::HashSet::new();
        for _ in 0..40 {
            let c = crossover(&a, &b, &mut rng);
            assert!(c
                .iter()
                .all(|s| *s == Selection::One(0) || *s == Selection::One(1)));
            seen.insert(c);
        }
        assert_eq!(seen.len(), 4, "all four combinations appear");
    }
}
