//! The ENAS controller (Pham et al. 2018, as NNI's `ReinforceController`): an LSTM that
//! samples an architecture one decision at a time, trained with REINFORCE on the
//! validation accuracy of the sampled child, with an entropy bonus, a moving-average
//! baseline and a KL penalty pulling the probability of each skip connection (a
//! yes/no decision of an any-subset input choice) towards `skip_target`.

// tch's `+=`/`/=` on tensors are in-place operations; sums that autograd differentiates
// are written out as new tensors on purpose.
#![allow(clippy::assign_op_pattern)]

use crate::{
    decisions::{allowed, selections, steps, Step},
    SeededRng,
};
use archon_plugin_api::{
    space::ChoiceKind,
    tch::{
        nn::{self, Module, OptimizerConfig, RNN},
        Device, Kind, Tensor,
    },
    PluginError, Result, SearchSpace, Selection,
};
use rand::Rng;
use std::collections::BTreeMap;

/// The controller's hyper-parameters (NNI's ENAS defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControllerConfig {
    /// LSTM hidden units (64).
    pub hidden: i64,
    /// Logits become `c · tanh(logits)` (1.5 for the macro space, 1.1 micro).
    pub tanh_constant: Option<f64>,
    /// Logits are divided by this first (none).
    pub temperature: Option<f64>,
    /// Target probability of a skip connection (0.4).
    pub skip_target: f64,
    /// Weight of the skip KL penalty (0.8).
    pub skip_weight: f64,
    /// Weight of the entropy bonus added to the reward (1e-4).
    pub entropy_weight: f64,
    /// Decay of the reward's moving average (0.999).
    pub baseline_decay: f64,
    /// Adam learning rate (3.5e-4).
    pub lr: f64,
    /// Samples whose gradients are aggregated per controller update (20).
    pub aggregate: usize,
}

impl ControllerConfig {
    /// NNI's ENAS defaults (the macro space's tanh constant).
    pub const ENAS: ControllerConfig = ControllerConfig {
        hidden: 64,
        tanh_constant: Some(1.5),
        temperature: None,
        skip_target: 0.4,
        skip_weight: 0.8,
        entropy_weight: 1e-4,
        baseline_decay: 0.999,
        lr: 3.5e-4,
        aggregate: 20,
    };
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig::ENAS
    }
}

/// One sampled architecture with what REINFORCE needs.
pub struct Sample {
    /// The selections, one per choice of the space.
    pub selections: Vec<Selection>,
    log_prob: Tensor,
    entropy: Tensor,
    skip_penalty: Tensor,
}

impl Sample {
    /// The summed entropy of the decisions.
    pub fn entropy(&self) -> f64 {
        self.entropy.double_value(&[])
    }
}

/// The ENAS controller over a search space.
pub struct Controller {
    space: SearchSpace,
    steps: Vec<Step>,
    _vs: nn::VarStore,
    lstm: nn::LSTM,
    start: Tensor,
    embeds: Vec<nn::Embedding>,
    heads: Vec<nn::Linear>,
    opt: nn::Optimizer,
    cfg: ControllerConfig,
    baseline: Option<f64>,
    pending: usize,
}

impl Controller {
    /// A controller for `space` (weights U(-0.1, 0.1) drawn from `rng`, as ENAS).
    pub fn new(space: SearchSpace, cfg: ControllerConfig, rng: &mut SeededRng) -> Result<Self> {
        let steps = steps(&space);
        if steps.is_empty() {
            return Err(PluginError::invalid_input(
                "the search space has no decisions",
            ));
        }
        let vs = nn::VarStore::new(Device::Cpu);
        let p = vs.root();
        let h = cfg.hidden;
        let lstm = nn::lstm(&p / "lstm", h, h, Default::default());
        let start = p.zeros("start", &[1, h]);
        let embeds = steps
            .iter()
            .enumerate()
            .map(|(t, s)| {
                nn::embedding(
                    &p / format!("embed{t}"),
                    s.options() as i64,
                    h,
                    Default::default(),
                )
            })
            .collect();
        let heads = steps
            .iter()
            .enumerate()
            .map(|(t, s)| {
                nn::linear(
                    &p / format!("head{t}"),
                    h,
                    s.options() as i64,
                    Default::default(),
                )
            })
            .collect();
        rng.init_uniform(&vs, 0.1);
        let opt = nn::Adam::default()
            .build(&vs, cfg.lr)
            .map_err(|e| PluginError::internal(format!("controller optimizer: {e}")))?;
        Ok(Controller {
            space,
            steps,
            _vs: vs,
            lstm,
            start,
            embeds,
            heads,
            opt,
            cfg,
            baseline: None,
            pending: 0,
        })
    }

    /// The controller's weights and baseline as JSON (Adam's moments are not kept).
    pub fn state(&self) -> serde_json::Value {
        let weights: BTreeMap<String, Vec<f32>> = self
            ._vs
            .variables()
            .into_iter()
            .map(|(name, t)| {
                (
                    name,
                    Vec::<f32>::try_from(t.flatten(0, -1)).unwrap_or_default(),
                )
            })
            .collect();
        serde_json::json!({ "weights": weights, "baseline": self.baseline })
    }

    /// Restores [`state`](Self::state).
    pub fn load(&mut self, state: &serde_json::Value) -> Result<()> {
        let weights: BTreeMap<String, Vec<f32>> = serde_json::from_value(state["weights"].clone())
            .map_err(|e| PluginError::invalid_input(format!("controller state: {e}")))?;
        let vars = self._vs.variables();
        if vars.len() != weights.len() {
            return Err(PluginError::invalid_input(
                "controller state: saved for another search space",
            ));
        }
        for (name, t) in vars {
            let values = weights
                .get(&name)
                .filter(|v| v.len() as i64 == t.numel() as i64)
                .ok_or_else(|| {
                    PluginError::invalid_input(format!("controller state: {name} does not match"))
                })?;
            archon_plugin_api::tch::no_grad(|| {
                t.shallow_clone()
                    .copy_(&Tensor::from_slice(values).view(t.size().as_slice()));
            });
        }
        self.baseline = state["baseline"].as_f64();
        Ok(())
    }

    /// The search space.
    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    fn logits(&self, t: usize, h: &Tensor, actions: &[usize]) -> Tensor {
        let mut logits = self.heads[t].forward(h).view([-1]);
        if let Some(temp) = self.cfg.temperature {
            logits = logits / temp;
        }
        if let Some(c) = self.cfg.tanh_constant {
            logits = logits.tanh() * c;
        }
        let n = self.steps[t].options();
        let ok = allowed(&self.steps, actions, t, n);
        let bias: Vec<f32> = ok.iter().map(|&b| if b { 0.0 } else { -1e9 }).collect();
        logits + Tensor::from_slice(&bias)
    }

    /// Samples an architecture (`greedy`: the most likely one), keeping the graph for
    /// [`reinforce`](Self::reinforce).
    pub fn sample(&self, rng: &mut SeededRng, greedy: bool) -> Sample {
        let mut state = self.lstm.zero_state(1);
        let mut input = self.start.shallow_clone();
        let mut actions = Vec::with_capacity(self.steps.len());
        let zero = || Tensor::zeros([], (Kind::Float, Device::Cpu));
        let (mut log_prob, mut entropy, mut skip_penalty) = (zero(), zero(), zero());
        for (t, step) in self.steps.iter().enumerate() {
            state = self.lstm.step(&input, &state);
            let h = state.h().view([1, self.cfg.hidden]);
            let logp = self.logits(t, &h, &actions).log_softmax(0, Kind::Float);
            let probs: Vec<f64> = Vec::<f32>::try_from(logp.exp())
                .unwrap_or_default()
                .into_iter()
                .map(f64::from)
                .collect();
            let a = if greedy {
                probs
                    .iter()
                    .enumerate()
                    .max_by(|x, y| x.1.total_cmp(y.1))
                    .map_or(0, |(i, _)| i)
            } else {
                let mut u: f64 = rng.rng().random();
                let mut pick = probs.len() - 1;
                for (i, p) in probs.iter().enumerate() {
                    if u < *p {
                        pick = i;
                        break;
                    }
                    u -= p;
                }
                pick
            };
            log_prob = log_prob + logp.get(a as i64);
            entropy = entropy - (logp.exp() * logp.clamp_min(-1e4)).sum(Kind::Float);
            if let Step::Bit { .. } = step {
                // KL(p(skip) || target) for this yes/no decision.
                let p = logp.get(1).exp().clamp(1e-6, 1.0 - 1e-6);
                let q = self.cfg.skip_target;
                let not_p: Tensor = 1.0 - &p;
                let kl = &p * (&p / q).log() + &not_p * (&not_p / (1.0 - q)).log();
                skip_penalty = skip_penalty + kl;
            }
            actions.push(a);
            input = self.embeds[t].forward(&Tensor::from_slice(&[a as i64]));
        }
        Sample {
            selections: selections(&self.space, &self.steps, &actions),
            log_prob,
            entropy,
            skip_penalty,
        }
    }

    /// One REINFORCE contribution of `sample` with `reward`; the optimizer steps once
    /// `aggregate` samples are in. Returns the reward with its entropy bonus.
    pub fn reinforce(&mut self, sample: Sample, reward: f64) -> f64 {
        let reward = reward + self.cfg.entropy_weight * sample.entropy();
        let decay = self.cfg.baseline_decay;
        let baseline = match self.baseline {
            Some(b) => b * decay + reward * (1.0 - decay),
            None => reward,
        };
        self.baseline = Some(baseline);
        let loss =
            -sample.log_prob * (reward - baseline) + sample.skip_penalty * self.cfg.skip_weight;
        (loss / self.cfg.aggregate as f64).backward();
        self.pending += 1;
        if self.pending >= self.cfg.aggregate {
            self.opt.step();
            self.opt.zero_grad();
            self.pending = 0;
        }
        reward
    }

    /// The controller's distribution for each choice along its most likely path: a
    /// probability per candidate (for any-subset inputs, each one's probability of
    /// being taken), by label.
    pub fn probabilities(&self) -> BTreeMap<String, Vec<f64>> {
        archon_plugin_api::tch::no_grad(|| {
            let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            let mut state = self.lstm.zero_state(1);
            let mut input = self.start.shallow_clone();
            let mut actions = Vec::new();
            for (t, step) in self.steps.iter().enumerate() {
                state = self.lstm.step(&input, &state);
                let h = state.h().view([1, self.cfg.hidden]);
                let probs: Vec<f64> =
                    Vec::<f32>::try_from(self.logits(t, &h, &actions).softmax(0, Kind::Float))
                        .unwrap_or_default()
                        .into_iter()
                        .map(f64::from)
                        .collect();
                let a = probs
                    .iter()
                    .enumerate()
                    .max_by(|x, y| x.1.total_cmp(y.1))
                    .map_or(0, |(i, _)| i);
                let (choice, label_probs) = match *step {
                    Step::Pick { choice, .. } | Step::Input { choice, .. } => (choice, None),
                    Step::Bit { choice, candidate } => (choice, Some((candidate, probs[1]))),
                };
                let c = &self.space.choices()[choice];
                let entry = out.entry(c.name().to_string()).or_insert_with(|| {
                    match (c.kind(), &label_probs) {
                        (ChoiceKind::Input { n_chosen: None, .. }, _) => {
                            vec![0.0; c.num_candidates()]
                        }
                        _ => probs.clone(),
                    }
                });
                if let Some((candidate, p)) = label_probs {
                    entry[candidate] = p;
                }
                actions.push(a);
                input = self.embeds[t].forward(&Tensor::from_slice(&[a as i64]));
            }
            out
        })
    }
}
