//! PBT's explore step: one hyper-parameter set perturbed as NNI's PBTTuner perturbs it.

use archon_plugin_api::{
    space::{unit, ChoiceKind, Prior, Real},
    SearchSpace, Selection,
};
use archon_plugin_support::SeededRng;

/// How far and how often to move.
#[derive(Debug, Clone, Copy)]
pub struct Perturbation {
    /// A number moves by `factor` × its range (uniform types, in log space for log
    /// types) or × σ (normal types); a quantised one (`q` types) by one quantum.
    pub factor: f64,
    /// The chance that a parameter is drawn afresh instead of moved.
    pub resample_probability: f64,
}

impl Perturbation {
    /// `parent` with every parameter resampled or moved one step up or down (each
    /// direction with probability ½), clipped to the space.
    pub fn apply(
        &self,
        space: &SearchSpace,
        parent: &[Selection],
        rng: &mut SeededRng,
    ) -> Vec<Selection> {
        let mut child = parent.to_vec();
        for (i, choice) in space.choices().iter().enumerate() {
            // A nested choice's candidates are sub-spaces: switching one would leave
            // its sub-parameters unset, so it keeps its candidate (NNI's PBT reads no
            // nested spaces at all).
            if choice.is_nested() {
                continue;
            }
            if unit(&mut |n| rng.below(n)) < self.resample_probability {
                child[i] = choice.sample(&mut |n| rng.below(n));
                continue;
            }
            let up = unit(&mut |n| rng.below(n)) > 0.5;
            child[i] = match (&parent[i], choice.kind()) {
                // A quantised number moves by one quantum (NNI: round(x/q) ± 1, times q).
                (Selection::Number(Real(x)), ChoiceKind::Numeric(numeric))
                    if numeric.q.is_some() =>
                {
                    let q = numeric.q.unwrap_or(1.0);
                    let moved = ((x / q).round() + if up { 1.0 } else { -1.0 }) * q;
                    Selection::Number(Real(numeric.value_of_draw(numeric.draw_of_value(moved))))
                }
                (Selection::Number(Real(x)), ChoiceKind::Numeric(numeric)) => {
                    let draw = numeric.draw_of_value(*x);
                    let moved = match numeric.prior() {
                        Prior::Uniform { low, high } => {
                            let step = (high - low) * self.factor;
                            (if up { draw + step } else { draw - step }).clamp(low, high)
                        }
                        Prior::Normal { sigma, .. } => {
                            let step = sigma * self.factor;
                            if up {
                                draw + step
                            } else {
                                draw - step
                            }
                        }
                    };
                    Selection::Number(Real(numeric.value_of_draw(moved)))
                }
                // A choice or randint: the next candidate up or down, clipped.
                (Selection::One(index), kind) => {
                    let last = kind.num_candidates().saturating_sub(1);
                    Selection::One(if up {
                        (index + 1).min(last)
                    } else {
                        index.saturating_sub(1)
                    })
                }
                // Input choices have no order: kept.
                (kept, _) => kept.clone(),
            };
        }
        space.canonical(child)
    }
}
