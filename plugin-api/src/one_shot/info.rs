//! The JSON payloads of the one-shot interface, typed on both sides.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One decision of the supernet (all choice points sharing a label).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceInfo {
    /// The label: the key of the decision in architectures.
    pub label: String,
    /// `"layer"`, `"input"` or `"value"`.
    pub kind: String,
    /// Candidate names (values written as text for value choices).
    pub candidates: Vec<String>,
    /// For input choices: how many inputs an architecture keeps (`None`: any number).
    #[serde(default)]
    pub n_chosen: Option<usize>,
    /// For input choices whose every input passes through a layer choice (DARTS
    /// edges): the label of that layer choice per candidate input. Algorithms that rank
    /// inputs by edge strength use it; others may ignore it.
    #[serde(default)]
    pub edges: Vec<Option<String>>,
}

impl ChoiceInfo {
    /// The number of candidates.
    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    /// Whether the choice has no candidates (never true for a built space).
    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }

    /// Whether this is an input choice.
    pub fn is_input(&self) -> bool {
        self.kind == "input"
    }
}

/// What is being searched, and the budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchInfo {
    /// The space's name.
    pub space: String,
    /// Every decision, in build order.
    pub choices: Vec<ChoiceInfo>,
    /// The NNI-format search space (for [`Architecture`](crate::Architecture)).
    pub search_space: Value,
    /// Search epochs the host will run.
    pub epochs: usize,
    /// Steps per epoch (weight-training batches per epoch).
    pub steps_per_epoch: usize,
    /// Examples per batch.
    pub batch_size: i64,
    /// The device, e.g. `"cpu"` or `"cuda:0"`.
    pub device: String,
    /// The experiment's seed.
    pub seed: u64,
}

impl SearchInfo {
    /// The decision labelled `label`.
    pub fn choice(&self, label: &str) -> Option<&ChoiceInfo> {
        self.choices.iter().find(|c| c.label == label)
    }
}

/// Another network for the trainer (CDARTS's evaluation network, a child to probe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// A supernet of the same space (`None`) or the child of this architecture.
    #[serde(default)]
    pub architecture: Option<Value>,
    /// Space options that differ from the searched supernet's (e.g. `{"cells": 8}`).
    #[serde(default)]
    pub options: serde_json::Map<String, Value>,
}

/// The cost of one candidate, measured as the difference it makes to a reference
/// child (every other choice at its first candidate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateCost {
    /// Parameters.
    pub params: i64,
    /// Multiply-accumulates per example.
    pub flops: i64,
    /// Measured forward latency in milliseconds per batch of one, on the search device.
    pub latency_ms: f64,
}

/// Per-label, per-candidate costs.
pub type CostTable = BTreeMap<String, Vec<CandidateCost>>;

/// Progress a trainer reports; the host shows it and records it in the experiment
/// store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Report {
    /// A step finished.
    Step {
        /// Epoch, from 0.
        epoch: usize,
        /// Step within the epoch, from 0.
        step: usize,
        /// Metrics of the step (`loss`, `accuracy`, ...).
        metrics: BTreeMap<String, f64>,
    },
    /// An epoch finished.
    Epoch {
        /// Epoch, from 0.
        epoch: usize,
        /// Metrics of the epoch (`train_loss`, `valid_accuracy`, ...).
        metrics: BTreeMap<String, f64>,
        /// The architecture weights per label (probabilities over candidates).
        arch_weights: BTreeMap<String, Vec<f64>>,
        /// The architecture derived at the end of the epoch.
        #[serde(default)]
        architecture: Option<Value>,
    },
}
