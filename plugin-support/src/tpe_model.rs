//! A search space under the Parzen estimator: each choice point modelled on its own
//! (categorical choices by smoothed counts, input choices by subset, numbers by
//! adaptive Parzen windows in the prior's space) from the trials in which it was active
//! (nested sub-spaces), and one proposal from a history of (architecture, loss).
//! Shared by the `tpe` and `bohb` tuners.

use crate::parzen::{suggest_categorical, suggest_number, Args, Uniform};
use archon_plugin_api::{
    space::{ChoiceKind, ChoicePoint, Numeric, Prior, Real},
    SearchSpace, Selection,
};

/// Input choices with at most this many subsets are modelled as one categorical over
/// subsets; larger ones are drawn from the prior.
const MAX_SUBSETS: u128 = 4096;

/// How one choice point is modelled.
enum Model {
    /// One of `n` categories; for an input choice, the subsets in numbering order.
    Categorical {
        n: usize,
        subsets: Option<Vec<Selection>>,
    },
    /// A number, modelled in the prior's space.
    Number(Box<Numeric>),
    /// Not modelled: drawn from the prior.
    Prior,
}

impl Model {
    fn of(choice: &ChoicePoint) -> Model {
        match choice.kind() {
            ChoiceKind::Numeric(numeric) => Model::Number(Box::new(numeric.clone())),
            ChoiceKind::Input { .. } => match choice.num_selections() {
                Some(n) if n <= MAX_SUBSETS => Model::Categorical {
                    n: n as usize,
                    subsets: Some((0..n).map(|r| choice.selection_at(r)).collect()),
                },
                _ => Model::Prior,
            },
            _ => Model::Categorical {
                n: choice.num_candidates(),
                subsets: None,
            },
        }
    }

    /// The category of a selection.
    fn category(&self, selection: &Selection) -> Option<usize> {
        match (self, selection) {
            (Model::Categorical { subsets: None, .. }, Selection::One(i)) => Some(*i),
            (
                Model::Categorical {
                    subsets: Some(s), ..
                },
                sel,
            ) => s.iter().position(|x| x == sel),
            _ => None,
        }
    }
}

/// A search space's per-choice models.
pub struct SpaceModel {
    models: Vec<Model>,
}

impl SpaceModel {
    /// The models of `space`'s choice points.
    pub fn new(space: &SearchSpace) -> Self {
        SpaceModel {
            models: space.choices().iter().map(Model::of).collect(),
        }
    }

    /// One proposal: per choice point, the value with the best l(x)/g(x) among
    /// `args.n_ei_candidates` draws from the good observations' density.
    pub fn propose(
        &self,
        space: &SearchSpace,
        history: &[(Vec<Selection>, f64)],
        args: &Args,
        uniform: Uniform<'_>,
    ) -> Vec<Selection> {
        let mut out = Vec::with_capacity(self.models.len());
        for (k, (choice, model)) in space.choices().iter().zip(&self.models).enumerate() {
            let selection = match model {
                Model::Prior => choice.sample(uniform),
                Model::Categorical { n, subsets } => {
                    let observed: Vec<(usize, f64)> = history
                        .iter()
                        .filter(|(s, _)| space.is_active(k, s))
                        .filter_map(|(s, loss)| model.category(&s[k]).map(|c| (c, *loss)))
                        .collect();
                    let c = suggest_categorical(args, &observed, *n, uniform);
                    match subsets {
                        Some(subsets) => subsets[c].clone(),
                        None => Selection::One(c),
                    }
                }
                Model::Number(numeric) => {
                    let observed: Vec<(f64, f64)> = history
                        .iter()
                        .filter(|(s, _)| space.is_active(k, s))
                        .filter_map(|(s, loss)| match &s[k] {
                            Selection::Number(x) => Some((numeric.draw_of_value(x.0), *loss)),
                            _ => None,
                        })
                        .collect();
                    // Uniform priors become N((low + high) / 2, high - low) truncated to
                    // the bounds, as in NNI.
                    let (mu, sigma, clip) = match numeric.prior() {
                        Prior::Normal { mu, sigma } => (mu, sigma, None),
                        Prior::Uniform { low, high } => {
                            ((low + high) / 2.0, high - low, Some((low, high)))
                        }
                    };
                    let draw = suggest_number(args, &observed, mu, sigma, clip, uniform);
                    Selection::Number(Real(numeric.value_of_draw(draw)))
                }
            };
            out.push(selection);
        }
        space.canonical(out)
    }
}
