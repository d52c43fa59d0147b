//! A search space as a sequence of decisions for a sequential policy (PPO's, ENAS's
//! controller): one per layer or value
//! choice, `k` per input choice with `n_chosen = k` (without repeats), and one yes/no
//! per candidate of an any-subset input choice.

use archon_plugin_api::{space::ChoiceKind, SearchSpace, Selection};

/// One decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Pick one of `n` candidates of choice `choice`.
    Pick {
        /// The choice.
        choice: usize,
        /// Its candidates.
        n: usize,
    },
    /// Pick one more input of `choice` (not picked before).
    Input {
        /// The choice.
        choice: usize,
        /// Its candidates.
        n: usize,
    },
    /// Take candidate `candidate` of an any-subset choice or not (2 options).
    Bit {
        /// The choice.
        choice: usize,
        /// The candidate.
        candidate: usize,
    },
}

impl Step {
    /// The number of options.
    pub fn options(self) -> usize {
        match self {
            Step::Pick { n, .. } | Step::Input { n, .. } => n,
            Step::Bit { .. } => 2,
        }
    }
}

/// The decisions of `space`, in order.
pub fn steps(space: &SearchSpace) -> Vec<Step> {
    let mut out = Vec::new();
    for (choice, c) in space.choices().iter().enumerate() {
        let n = c.num_candidates();
        match c.kind() {
            ChoiceKind::Input {
                n_chosen: Some(k), ..
            } => out.extend((0..*k).map(|_| Step::Input { choice, n })),
            ChoiceKind::Input { n_chosen: None, .. } => {
                out.extend((0..n).map(|candidate| Step::Bit { choice, candidate }))
            }
            _ => out.push(Step::Pick { choice, n }),
        }
    }
    out
}

/// Which options of step `t` are allowed, given the actions taken before it.
pub fn allowed(steps: &[Step], actions: &[usize], t: usize, width: usize) -> Vec<bool> {
    let mut ok = vec![false; width];
    let step = steps[t];
    for (o, slot) in ok.iter_mut().enumerate().take(step.options()) {
        *slot = true;
        if let Step::Input { choice, .. } = step {
            // No input twice within one choice.
            *slot = !(0..t).any(|s| {
                matches!(steps[s], Step::Input { choice: c, .. } if c == choice) && actions[s] == o
            });
        }
    }
    ok
}

/// The selections the actions make.
pub fn selections(space: &SearchSpace, steps: &[Step], actions: &[usize]) -> Vec<Selection> {
    space
        .choices()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mine = steps.iter().zip(actions).filter(|(s, _)| match s {
                Step::Pick { choice, .. }
                | Step::Input { choice, .. }
                | Step::Bit { choice, .. } => *choice == i,
            });
            match c.kind() {
                ChoiceKind::Input {
                    n_chosen: Some(_), ..
                } => {
                    let mut v: Vec<usize> = mine.map(|(_, &a)| a).collect();
                    v.sort_unstable();
                    Selection::Many(v)
                }
                ChoiceKind::Input { n_chosen: None, .. } => Selection::Many(
                    mine.filter(|(_, &a)| a == 1)
                        .map(|(s, _)| match s {
                            Step::Bit { candidate, .. } => *candidate,
                            _ => 0,
                        })
                        .collect(),
                ),
                _ => Selection::One(mine.map(|(_, &a)| a).next().unwrap_or(0)),
            }
        })
        .collect()
}
