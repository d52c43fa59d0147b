//! Trials as points of a unit box, so that a distance means "how different".

use archon_plugin_api::space::{ChoiceKind, Numeric, Prior, Real};
use archon_plugin_api::{SearchSpace, Selection};

/// How one choice point is written.
#[derive(Debug, Clone)]
enum Block {
    /// A number: its place in the prior's range (normal priors: ±2σ span the box).
    Number(Numeric),
    /// A `randint` of `n` integers: candidate i at i / (n − 1).
    Integer { n: usize },
    /// A `choice` of numbers: the rank of the value among the values, over (n − 1);
    /// `ranks[i]` is candidate i's.
    Ordinal { ranks: Vec<f64> },
    /// A layer choice or a `choice` of other values: one of `n` coordinates.
    OneHot { n: usize },
    /// An input choice: one coordinate per chosen input.
    MultiHot { n: usize },
}

/// The scale of a one-hot coordinate: two different candidates are one apart.
const HOT: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Encodes a space's trials.
#[derive(Debug, Clone)]
pub struct Encoder {
    blocks: Vec<Block>,
    dim: usize,
}

impl Encoder {
    /// The encoder of `space`.
    pub fn new(space: &SearchSpace) -> Self {
        let blocks: Vec<Block> = space
            .choices()
            .iter()
            .map(|choice| match choice.kind() {
                ChoiceKind::Numeric(numeric) => Block::Number(numeric.clone()),
                ChoiceKind::RandInt { lower, upper } => Block::Integer {
                    n: (upper - lower) as usize,
                },
                ChoiceKind::Value { values }
                    if !choice.is_nested() && values.iter().all(|v| v.is_number()) =>
                {
                    let numbers: Vec<f64> = values.iter().filter_map(|v| v.as_f64()).collect();
                    let n = numbers.len();
                    let ranks = numbers
                        .iter()
                        .map(|x| numbers.iter().filter(|y| *y < x).count() as f64)
                        .map(|r| r / (n.max(2) - 1) as f64)
                        .collect();
                    Block::Ordinal { ranks }
                }
                ChoiceKind::Input { candidates, .. } => Block::MultiHot {
                    n: candidates.len(),
                },
                other => Block::OneHot {
                    n: other.num_candidates(),
                },
            })
            .collect();
        let dim = blocks
            .iter()
            .map(|b| match b {
                Block::Number(_) | Block::Integer { .. } | Block::Ordinal { .. } => 1,
                Block::OneHot { n } | Block::MultiHot { n } => *n,
            })
            .sum();
        Encoder { blocks, dim }
    }

    /// The number of coordinates.
    #[cfg(test)]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of choice points (the largest squared distance two points can have,
    /// roughly).
    pub fn choices(&self) -> usize {
        self.blocks.len()
    }

    /// `selections` (an architecture of the space) as a point.
    pub fn encode(&self, space: &SearchSpace, selections: &[Selection]) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.dim);
        for (k, (block, selection)) in self.blocks.iter().zip(selections).enumerate() {
            let active = space.is_active(k, selections);
            match block {
                Block::Number(numeric) => {
                    let v = match (active, selection) {
                        (true, Selection::Number(Real(v))) => place(numeric, *v),
                        _ => 0.0,
                    };
                    x.push(v);
                }
                Block::Integer { n } => {
                    let v = match (active, selection) {
                        (true, Selection::One(i)) => *i as f64 / (n.max(&2) - 1) as f64,
                        _ => 0.0,
                    };
                    x.push(v);
                }
                Block::Ordinal { ranks } => {
                    let v = match (active, selection) {
                        (true, Selection::One(i)) => ranks.get(*i).copied().unwrap_or(0.0),
                        _ => 0.0,
                    };
                    x.push(v);
                }
                Block::OneHot { n } | Block::MultiHot { n } => {
                    let start = x.len();
                    x.resize(start + n, 0.0);
                    if active {
                        for i in selection.indices() {
                            if i < *n {
                                x[start + i] = HOT;
                            }
                        }
                    }
                }
            }
        }
        x
    }
}

/// A number's place in its prior's range: 0 at the low end, 1 at the high end (normal
/// priors: μ ± 2σ).
fn place(numeric: &Numeric, value: f64) -> f64 {
    let draw = numeric.draw_of_value(value);
    match numeric.prior() {
        Prior::Uniform { low, high } if high > low => (draw - low) / (high - low),
        Prior::Uniform { .. } => 0.5,
        Prior::Normal { mu, sigma } => 0.5 + (draw - mu) / (4.0 * sigma),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_ranks_and_one_hots() {
        let space = SearchSpace::from_json_str(
            r#"{"lr": {"_type": "loguniform", "_value": [0.001, 0.1]},
                "batch": {"_type": "choice", "_value": [64, 16, 32]},
                "op": {"_type": "layer_choice", "_value": ["a", "b", "c"]},
                "in": {"_type": "input_choice", "_value": {"candidates": ["p", "q"], "n_chosen": null}}}"#,
        )
        .unwrap();
        let e = Encoder::new(&space);
        assert_eq!(e.dim(), 1 + 1 + 3 + 2);
        let x = e.encode(
            &space,
            &[
                Selection::Number(Real(0.01)),
                Selection::One(0),
                Selection::One(1),
                Selection::Many(vec![0, 1]),
            ],
        );
        assert!((x[0] - 0.5).abs() < 1e-12, "{x:?}");
        assert_eq!(x[1], 1.0, "64 is the largest of the batch sizes");
        assert_eq!(&x[2..5], &[0.0, HOT, 0.0]);
        assert_eq!(&x[5..], &[HOT, HOT]);
    }

    #[test]
    fn inactive_sub_parameters_are_zero() {
        let space = SearchSpace::from_json_str(
            r#"{"layer": {"_type": "choice", "_value": [
                    {"_name": "empty"},
                    {"_name": "conv", "kernel": {"_type": "choice", "_value": [3, 5]}}]}}"#,
        )
        .unwrap();
        let e = Encoder::new(&space);
        let empty = space.canonical(vec![Selection::One(0), Selection::One(1)]);
        assert_eq!(e.encode(&space, &empty), vec![HOT, 0.0, 0.0]);
        let conv = vec![Selection::One(1), Selection::One(1)];
        assert_eq!(e.encode(&space, &conv), vec![0.0, HOT, 1.0]);
    }
}
