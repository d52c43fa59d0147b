//! Training and evaluating a fixed child network: what a classic-NAS trial runs and
//! what "retrain the found architecture" runs.

mod augment;
mod latency;
mod recipe;
mod trainer;
mod weight_average;

pub use augment::Augment;
pub use latency::latency_ms;
pub use recipe::{LrSchedule, OptimizerKind, Recipe};
pub use trainer::{
    evaluate, save_weights, train, train_and_evaluate, EpochReport, Progress, TrainConfig,
    TrainEvent,
};
pub use weight_average::WeightAverage;
