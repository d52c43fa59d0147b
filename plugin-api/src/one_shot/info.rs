//! The JSON payloads of the one-shot interface, typed on both sides.

use super::{CandidateRole, DecisionKind, Limits, SearchDevice};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One decision of the supernet (all choice points sharing a label).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceInfo {
    /// The label: the key of the decision in architectures. An identifier, not a
    /// description: algorithms never read meaning into it.
    pub label: String,
    /// Layer, input or value choice.
    pub kind: DecisionKind,
    /// Candidate names (values written as text for value choices), for people and for
    /// architectures; algorithms use [`roles`](Self::roles).
    pub candidates: Vec<String>,
    /// What each candidate does, as the space declares it (one per candidate; a
    /// missing entry is [`CandidateRole::Other`]).
    #[serde(default)]
    pub roles: Vec<CandidateRole>,
    /// The group the decision belongs to, as the space declares it: the cell type of a
    /// cell space (`normal`, `reduce`), the stage of a chain space. Decisions of one
    /// group are counted together (e.g. skip-connects per cell type). `None`: the
    /// decision stands alone.
    #[serde(default)]
    pub group: Option<String>,
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
        self.kind == DecisionKind::Input
    }

    /// The role of candidate `i`.
    pub fn role(&self, i: usize) -> CandidateRole {
        self.roles.get(i).copied().unwrap_or(match self.kind {
            DecisionKind::Layer => CandidateRole::Other,
            DecisionKind::Input => CandidateRole::Input,
            DecisionKind::Value => CandidateRole::Value,
        })
    }

    /// The candidates of a role.
    pub fn with_role(&self, role: CandidateRole) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(move |&i| self.role(i) == role)
    }
}

/// What is being searched, and the budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchInfo {
    /// The space's name.
    pub space: String,
    /// Every decision, in build order.
    pub choices: Vec<ChoiceInfo>,
    /// Whether the space repeats cells whose decisions all cells of a type share (the
    /// DARTS family, NAS-Bench-201) rather than deciding layer by layer.
    #[serde(default)]
    pub cell_based: bool,
    /// The NNI-format search space (for [`Architecture`](crate::Architecture)).
    pub search_space: Value,
    /// Search epochs the host will run.
    pub epochs: usize,
    /// Steps per epoch (weight-training batches per epoch).
    pub steps_per_epoch: usize,
    /// Examples per batch.
    pub batch_size: i64,
    /// The device (`"cpu"` or `"cuda:N"` in JSON).
    pub device: SearchDevice,
    /// The experiment's seed.
    pub seed: u64,
    /// What the export must fit (by the cost table's estimate); the host checks the
    /// exported network against them too. Empty: no limits.
    #[serde(default, skip_serializing_if = "Limits::is_empty")]
    pub limits: Limits,
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

/// Costs: parameters, multiply-adds, measured latency.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CandidateCost {
    /// Parameters.
    pub params: i64,
    /// Multiply-accumulates per example.
    pub flops: i64,
    /// Measured forward latency in milliseconds per batch of one, on the search device.
    pub latency_ms: f64,
}

/// The costs of a reference child (every choice at its first candidate, the first
/// `n_chosen` inputs of an input choice) and, per label of the layer and value choices,
/// what each candidate adds to it. Costs are close to additive in the cell and chain
/// spaces, so [`estimate`](Self::estimate) sums them for any architecture.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CostTable {
    /// The reference child's costs.
    pub reference: CandidateCost,
    /// Per label, per candidate: the difference to the reference.
    pub choices: BTreeMap<String, Vec<CandidateCost>>,
}

impl CostTable {
    /// The estimated costs of an NNI-format architecture: the reference plus each
    /// selected candidate's difference.
    pub fn estimate(&self, architecture: &Value) -> CandidateCost {
        let mut total = self.reference.clone();
        for (label, costs) in &self.choices {
            let picked = architecture
                .get(label)
                .and_then(|e| e.get("_idx"))
                .and_then(Value::as_u64)
                .and_then(|i| costs.get(i as usize));
            if let Some(c) = picked {
                total.params += c.params;
                total.flops += c.flops;
                total.latency_ms += c.latency_ms;
            }
        }
        total
    }
}

/// An architecture with its score (SPOS's populations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// NNI-format JSON.
    pub architecture: Value,
    /// Its score (validation accuracy).
    pub score: f64,
}

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
    /// A generation of an evolutionary search (SPOS), scored.
    Population {
        /// Generation, from 0.
        generation: usize,
        /// Its members.
        population: Vec<Scored>,
    },
}
