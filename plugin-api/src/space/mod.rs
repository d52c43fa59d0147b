//! Search spaces and architectures in NNI's classic-NAS JSON format, with validators
//! that say exactly what is wrong and where.
//!
//! A search space is a JSON object of named choice points:
//!
//! ```json
//! {
//!   "conv1": {"_type": "layer_choice", "_value": ["conv3x3", "conv5x5", "maxpool"]},
//!   "skip":  {"_type": "input_choice", "_value": {"candidates": ["x0", "x1", "x2"], "n_chosen": 2}},
//!   "width": {"_type": "choice", "_value": [16, 32, 64]}
//! }
//! ```
//!
//! NNI's numeric types are read too (`"lr": {"_type": "loguniform", "_value": [1e-4, 0.1]}`,
//! `randint`, `uniform`, `quniform`, `qloguniform`, `normal`, `qnormal`, `lognormal`,
//! `qlognormal`), with NNI's semantics; which of them a tuner supports it declares
//! ([`Tuner::SUPPORTED_TYPES`](crate::Tuner::SUPPORTED_TYPES)).
//!
//! An architecture (a trial's parameters) picks from each:
//!
//! ```json
//! {
//!   "conv1": {"_value": "conv5x5", "_idx": 1},
//!   "skip":  {"_value": ["x0", "x2"], "_idx": [0, 2]},
//!   "width": {"_value": 32, "_idx": 1},
//!   "lr":    {"_value": 0.0123}
//! }
//! ```

mod architecture;
mod condition;
mod enumeration;
mod nested;
mod numeric;
mod search_space;

#[cfg(test)]
mod tests;

pub use architecture::{Architecture, Selection};
pub use condition::Condition;
pub use numeric::{standard_normal, unit, Numeric, NumericType, Prior, Real};
pub use search_space::{ChoiceKind, ChoicePoint, SearchSpace, ALL_TYPES, CATEGORICAL_TYPES};
