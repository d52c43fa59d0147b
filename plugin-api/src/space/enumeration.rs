//! Counting and numbering the architectures of a search space.
//!
//! Every architecture of a space has a number in `0..size`, in odometer order (the
//! last choice varies fastest; an input choice's subsets in lexicographic order).
//! Tuners use this to sample without replacement, to deduplicate, and to know when
//! a finite space is exhausted.

use super::architecture::{Architecture, Selection};
use super::search_space::{ChoiceKind, ChoicePoint, SearchSpace};

/// `n choose k`, or `None` if it does not fit in a `u128`.
fn binomial(n: usize, k: usize) -> Option<u128> {
    if k > n {
        return Some(0);
    }
    let k = k.min(n - k);
    let mut acc: u128 = 1;
    for i in 0..k {
        // acc * (n - i) / (i + 1) stays exact: acc is C(n, i) here.
        acc = acc.checked_mul((n - i) as u128)? / (i as u128 + 1);
    }
    Some(acc)
}

impl ChoicePoint {
    /// How many different selections this choice point allows, or `None` past `u128`.
    pub fn num_selections(&self) -> Option<u128> {
        match self.kind() {
            ChoiceKind::Layer { candidates } => Some(candidates.len() as u128),
            ChoiceKind::Value { values } => Some(values.len() as u128),
            ChoiceKind::RandInt { lower, upper } => Some((upper - lower) as u128),
            // Uncountable: a space with a numeric parameter has no size.
            ChoiceKind::Numeric(_) => None,
            ChoiceKind::Input {
                candidates,
                n_chosen: Some(k),
            } => binomial(candidates.len(), *k),
            ChoiceKind::Input {
                candidates,
                n_chosen: None,
            } => 1u128.checked_shl(u32::try_from(candidates.len()).ok()?),
        }
    }

    /// Selection number `rank` (in `0..num_selections()`) of this choice point.
    ///
    /// # Panics
    /// If `rank` is out of range or the choice is numeric (a caller bug, not user input).
    pub fn selection_at(&self, rank: u128) -> Selection {
        let total = self.num_selections();
        assert!(
            total.is_none_or(|t| rank < t),
            "selection rank {rank} out of range for choice {:?}",
            self.name()
        );
        match self.kind() {
            ChoiceKind::Layer { .. } | ChoiceKind::Value { .. } | ChoiceKind::RandInt { .. } => {
                Selection::One(rank as usize)
            }
            ChoiceKind::Numeric(_) => unreachable!("a numeric parameter is not numbered"),
            ChoiceKind::Input {
                candidates,
                n_chosen: None,
            } => Selection::Many(
                (0..candidates.len())
                    .filter(|i| rank >> i & 1 == 1)
                    .collect(),
            ),
            ChoiceKind::Input {
                candidates,
                n_chosen: Some(k),
            } => {
                let n = candidates.len();
                let (mut rank, mut k) = (rank, *k);
                let mut chosen = Vec::with_capacity(k);
                for i in 0..n {
                    if k == 0 {
                        break;
                    }
                    // Subsets whose smallest remaining element is i.
                    let with_i = binomial(n - i - 1, k - 1).unwrap_or(u128::MAX);
                    if rank < with_i {
                        chosen.push(i);
                        k -= 1;
                    } else {
                        rank -= with_i;
                    }
                }
                Selection::Many(chosen)
            }
        }
    }
}

impl ChoicePoint {
    /// A uniformly random selection, drawing with `uniform(n)` (a uniform integer in
    /// `0..n`, from the tuner's own generator).
    pub fn sample(&self, uniform: &mut dyn FnMut(u128) -> u128) -> Selection {
        if let ChoiceKind::Numeric(numeric) = self.kind() {
            return Selection::Number(super::Real(numeric.sample(uniform)));
        }
        match self.num_selections() {
            Some(n) => self.selection_at(uniform(n)),
            // An any-subset input choice with more than 127 candidates: a coin per input.
            None => Selection::Many(
                (0..self.num_candidates())
                    .filter(|_| uniform(2) == 1)
                    .collect(),
            ),
        }
    }
}

/// How many random draws [`SearchSpace::sample_unseen`] tries before enumerating.
const UNSEEN_DRAWS: usize = 200;
/// Spaces up to this size are enumerated when random draws keep finding seen ones.
const ENUMERABLE: u128 = 1 << 20;

impl SearchSpace {
    /// A uniformly random architecture (as selections, inactive nested ones at their
    /// placeholder), drawing with `uniform(n)`.
    pub fn sample(&self, uniform: &mut dyn FnMut(u128) -> u128) -> Vec<Selection> {
        self.canonical(self.choices().iter().map(|c| c.sample(uniform)).collect())
    }

    /// A random architecture not in `seen`, or `None` when every architecture is (or,
    /// in a space too large to enumerate, none was found in many draws). Small spaces
    /// fall back to scanning from a random start, so their last architectures are
    /// still found.
    pub fn sample_unseen(
        &self,
        seen: &std::collections::HashSet<Vec<Selection>>,
        uniform: &mut dyn FnMut(u128) -> u128,
    ) -> Option<Vec<Selection>> {
        for _ in 0..UNSEEN_DRAWS {
            let candidate = self.sample(uniform);
            if !seen.contains(&candidate) {
                return Some(candidate);
            }
        }
        let size = self.size().filter(|&n| n <= ENUMERABLE)?;
        let start = uniform(size);
        (0..size)
            .filter_map(|k| self.architecture_at((start + k) % size))
            .map(|a| a.selections().to_vec())
            .find(|s| !seen.contains(s))
    }

    /// The number of architectures, or `None` if it exceeds `u128::MAX` or the space
    /// has nested choices (not numbered) or numbers.
    pub fn size(&self) -> Option<u128> {
        if self.has_nested() {
            return None;
        }
        self.choices()
            .iter()
            .try_fold(1u128, |acc, c| acc.checked_mul(c.num_selections()?))
    }

    /// Architecture number `index` (in `0..size()`), or `None` if out of range or the
    /// space is too large to number.
    pub fn architecture_at(&self, index: u128) -> Option<Architecture> {
        if index >= self.size()? {
            return None;
        }
        let mut rest = index;
        let mut selections = Vec::with_capacity(self.choices().len());
        for choice in self.choices().iter().rev() {
            let radix = choice.num_selections()?;
            selections.push(choice.selection_at(rest % radix));
            rest /= radix;
        }
        selections.reverse();
        Architecture::new(self, selections).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(json: &str) -> SearchSpace {
        SearchSpace::from_json_str(json).unwrap()
    }

    #[test]
    fn binomials() {
        assert_eq!(binomial(5, 2), Some(10));
        assert_eq!(binomial(5, 0), Some(1));
        assert_eq!(binomial(5, 5), Some(1));
        assert_eq!(binomial(3, 4), Some(0));
        assert_eq!(binomial(60, 30), Some(118264581564861424));
    }

    #[test]
    fn numbering_is_a_bijection() {
        let s = space(
            r#"{"a": {"_type": "layer_choice", "_value": ["x", "y", "z"]},
                "b": {"_type": "input_choice", "_value": {"candidates": ["i", "j", "k", "l"], "n_chosen": 2}},
                "c": {"_type": "input_choice", "_value": {"candidates": ["p", "q"], "n_chosen": null}},
                "d": {"_type": "choice", "_value": [1, 2]}}"#,
        );
        assert_eq!(s.size(), Some(3 * 6 * 4 * 2));
        let all: std::collections::HashSet<_> = (0..s.size().unwrap())
            .map(|i| s.architecture_at(i).unwrap())
            .collect();
        assert_eq!(all.len(), 144);
        assert!(s.architecture_at(144).is_none());
    }

    #[test]
    fn huge_spaces_have_no_size() {
        let choices: Vec<String> = (0..50)
            .map(|i| format!("\"c{i}\": {{\"_type\": \"layer_choice\", \"_value\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"]}}"))
            .collect();
        let s = space(&format!("{{{}}}", choices.join(",")));
        assert_eq!(s.size(), None);
    }
}
