//! The policy/value network: embedding of the previous action → LSTM → a policy head
//! over the widest decision (narrower ones masked) and a value head.

use archon_plugin_api::tch::{
    nn::{self, Module, RNN},
    Device, Kind, Tensor,
};
use archon_plugin_support::SeededRng;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Hidden units of the LSTM (NNI uses 32).
pub(crate) const HIDDEN: i64 = 32;

pub(crate) struct Policy {
    pub(crate) vs: nn::VarStore,
    embed: nn::Embedding,
    lstm: nn::LSTM,
    pi: nn::Linear,
    value: nn::Linear,
    width: i64,
}

/// What sampling one architecture produced.
pub(crate) struct Sample {
    pub(crate) actions: Vec<usize>,
    pub(crate) logps: Vec<f64>,
    pub(crate) values: Vec<f64>,
}

impl Policy {
    /// A policy for decisions of at most `width` options, initialised from `rng`.
    pub(crate) fn new(width: usize, rng: &mut SeededRng) -> Self {
        let vs = nn::VarStore::new(Device::Cpu);
        let p = vs.root();
        let width = width.max(2) as i64;
        let embed = nn::embedding(&p / "embed", width + 1, HIDDEN, Default::default());
        let lstm = nn::lstm(
            &p / "lstm",
            HIDDEN,
            HIDDEN,
            nn::RNNConfig {
                batch_first: true,
                ..Default::default()
            },
        );
        let pi = nn::linear(&p / "pi", HIDDEN, width, Default::default());
        let value = nn::linear(&p / "value", HIDDEN, 1, Default::default());
        let policy = Policy {
            vs,
            embed,
            lstm,
            pi,
            value,
            width,
        };
        // Deterministic initialisation from the tuner's generator: U(-1/√H, 1/√H).
        rng.init_uniform(&policy.vs, 1.0 / (HIDDEN as f64).sqrt());
        policy
    }

    /// Samples one architecture's actions; `allowed(actions so far, t)` masks step t.
    pub(crate) fn sample(
        &self,
        steps: usize,
        rng: &mut ChaCha8Rng,
        allowed: &dyn Fn(&[usize], usize) -> Vec<bool>,
    ) -> Sample {
        archon_plugin_api::tch::no_grad(|| {
            let mut state = self.lstm.zero_state(1);
            let mut prev = 0i64;
            let mut out = Sample {
                actions: Vec::new(),
                logps: Vec::new(),
                values: Vec::new(),
            };
            for t in 0..steps {
                let x = Tensor::from_slice(&[prev]).apply(&self.embed);
                state = self.lstm.step(&x, &state);
                let h = state.h().view([1, HIDDEN]);
                let ok = allowed(&out.actions, t);
                let logits = self.pi.forward(&h).view([self.width]) + mask_bias(&ok);
                let logp = logits.log_softmax(0, Kind::Float);
                let probs = Vec::<f32>::try_from(logp.exp()).unwrap_or_default();
                let mut u: f32 = rng.random();
                let mut a = ok.iter().rposition(|&b| b).unwrap_or(0);
                for (i, p) in probs.iter().enumerate() {
                    if ok[i] {
                        if u < *p {
                            a = i;
                            break;
                        }
                        u -= p;
                    }
                }
                out.logps.push(logp.double_value(&[a as i64]));
                out.values
                    .push(self.value.forward(&h).double_value(&[0, 0]));
                out.actions.push(a);
                prev = a as i64 + 1;
            }
            out
        })
    }

    /// Log-probabilities of `actions` `[B, T]`, entropies `[B, T]` and values `[B, T]`
    /// under the current weights; `masks` `[B, T, width]` (1 = allowed).
    pub(crate) fn evaluate(&self, actions: &Tensor, masks: &Tensor) -> (Tensor, Tensor, Tensor) {
        let (b, t) = (actions.size()[0], actions.size()[1]);
        let start = Tensor::zeros([b, 1], (Kind::Int64, Device::Cpu));
        let prev = Tensor::cat(&[start, actions.narrow(1, 0, t - 1) + 1], 1);
        let (h, _) = self.lstm.seq(&prev.apply(&self.embed));
        let logits = self.pi.forward(&h) + (masks - 1.0) * 1e9;
        let logp_all = logits.log_softmax(-1, Kind::Float);
        let logp = logp_all
            .gather(2, &actions.unsqueeze(2), false)
            .squeeze_dim(2);
        let entropy = -(logp_all.exp() * logp_all.clamp_min(-1e4)).sum_dim_intlist(
            [2].as_slice(),
            false,
            Kind::Float,
        );
        let values = self.value.forward(&h).squeeze_dim(2);
        (logp, entropy, values)
    }

    /// The weights, as name → values.
    pub(crate) fn weights(&self) -> BTreeMap<String, Vec<f32>> {
        self.vs
            .variables()
            .into_iter()
            .map(|(name, t)| {
                (
                    name,
                    Vec::<f32>::try_from(t.flatten(0, -1)).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Restores weights from [`weights`](Self::weights); false if they do not fit.
    pub(crate) fn set_weights(&mut self, weights: &BTreeMap<String, Vec<f32>>) -> bool {
        let vars = self.vs.variables();
        if vars.len() != weights.len() {
            return false;
        }
        for (name, mut t) in vars {
            match weights.get(&name) {
                Some(v) if v.len() as i64 == t.numel() as i64 => {
                    archon_plugin_api::tch::no_grad(|| {
                        t.copy_(&Tensor::from_slice(v).view(t.size().as_slice()))
                    });
                }
                _ => return false,
            }
        }
        true
    }
}

fn mask_bias(allowed: &[bool]) -> Tensor {
    let bias: Vec<f32> = allowed
        .iter()
        .map(|&ok| if ok { 0.0 } else { -1e9 })
        .collect();
    Tensor::from_slice(&bias)
}
