//! Architecture parameters (α): one vector per decision of the supernet, the Adam
//! optimizer that trains them, and the settings they put on the supernet.

use crate::SeededRng;
use archon_plugin_api::{
    one_shot::{pass_on_gradients, ChoiceInfo, NetId, SearchInfo, Setting, SupernetContext},
    tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor},
    PluginError, Result,
};
use std::{collections::BTreeMap, sync::Mutex};

/// The architecture optimizer (DARTS: Adam 3e-4, betas (0.5, 0.999), weight decay 1e-3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchOptim {
    /// Learning rate.
    pub lr: f64,
    /// Adam's β1.
    pub beta1: f64,
    /// Adam's β2.
    pub beta2: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
}

impl ArchOptim {
    /// DARTS's settings: Adam 3e-4, betas (0.5, 0.999), weight decay 1e-3.
    pub const DARTS: ArchOptim = ArchOptim {
        lr: 3e-4,
        beta1: 0.5,
        beta2: 0.999,
        weight_decay: 1e-3,
    };
}

impl Default for ArchOptim {
    fn default() -> Self {
        ArchOptim::DARTS
    }
}

/// How α turns into the settings of a forward pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mixture {
    /// DARTS: the softmax of α over the active candidates; `grad` keeps the graph to α
    /// (architecture steps), without it the weights are constants (weight steps).
    Softmax {
        /// Whether gradients flow back to α.
        grad: bool,
    },
    /// GDAS: one candidate drawn from the Gumbel-softmax of α at temperature `tau`,
    /// weighted by the straight-through hard sample (1 forward, softmax gradient).
    Gumbel {
        /// The temperature.
        tau: f64,
    },
}

/// What α does for one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AlphaUse {
    /// Layer or value choice, or input choice without edges: α mixes the candidates.
    Mix,
    /// Input choice whose inputs are DARTS edges: every input is summed during the
    /// search; the edges' own α rank them at derivation.
    SumEdges,
}

/// α for every decision of a supernet.
pub struct ArchParams {
    pub(crate) choices: Vec<ChoiceInfo>,
    uses: Vec<AlphaUse>,
    pub(crate) alphas: Vec<Tensor>,
    pub(crate) active: Vec<Vec<usize>>,
    /// The store α's variables were made in (kept with them; the optimizer and
    /// `alphas` hold its tensors).
    _vs: nn::VarStore,
    opt: nn::Optimizer,
    pub(crate) search_space: serde_json::Value,
    /// PC-DARTS's edge normalisation: input choices over DARTS edges mix their
    /// inputs by a softmax of their own α (β) instead of summing them.
    edge_normalization: bool,
    /// α's initial draws and GDAS's Gumbel noise (seeded by the search's seed; never
    /// libtorch's process-global generator).
    rng: Mutex<SeededRng>,
}

impl ArchParams {
    /// α ~ 1e-3·N(0, 1) for every decision of `info`, on its device, drawn from a
    /// generator seeded with the search's seed.
    pub fn new(info: &SearchInfo, optim: ArchOptim) -> Result<Self> {
        let vs = nn::VarStore::new(info.device.tch());
        let mut rng = SeededRng::new(info.seed);
        let mut uses = Vec::new();
        let mut alphas = Vec::new();
        for (k, c) in info.choices.iter().enumerate() {
            if c.is_empty() {
                return Err(PluginError::invalid_input(format!(
                    "choice {:?} has no candidates",
                    c.label
                )));
            }
            let sums_edges = c.is_input()
                && c.edges.len() == c.len()
                && c.edges
                    .iter()
                    .all(|e| e.as_ref().is_some_and(|l| info.choice(l).is_some()));
            uses.push(if sums_edges {
                AlphaUse::SumEdges
            } else {
                AlphaUse::Mix
            });
            let init = rng.normal_tensor(&[c.len() as i64], 0.0, 1e-3, vs.device());
            alphas.push(vs.root().var_copy(&format!("alpha{k}"), &init));
        }
        let opt = nn::Adam {
            beta1: optim.beta1,
            beta2: optim.beta2,
            wd: optim.weight_decay,
            ..Default::default()
        }
        .build(&vs, optim.lr)
        .map_err(|e| PluginError::internal(format!("architecture optimizer: {e}")))?;
        Ok(ArchParams {
            active: info
                .choices
                .iter()
                .map(|c| (0..c.len()).collect())
                .collect(),
            choices: info.choices.clone(),
            uses,
            alphas,
            _vs: vs,
            opt,
            search_space: info.search_space.clone(),
            edge_normalization: false,
            rng: Mutex::new(rng),
        })
    }

    /// PC-DARTS's edge normalisation (Xu et al. 2020): every input choice over DARTS
    /// edges weights its inputs by the softmax of its own α (β) during the search, and
    /// derivation ranks an edge by β times its best operation's weight.
    pub fn set_edge_normalization(&mut self, on: bool) {
        self.edge_normalization = on;
    }

    /// Whether input choices over edges are weighted by β (see
    /// [`Self::set_edge_normalization`]).
    pub fn edge_normalization(&self) -> bool {
        self.edge_normalization
    }

    /// α for the decisions of the supernet `ctx` lends (a trainer's `begin`).
    pub fn for_search(ctx: &mut SupernetContext<'_>, optim: ArchOptim) -> Result<Self> {
        let info = ctx.info()?.clone();
        Self::new(&info, optim)
    }

    /// Draws α afresh (1e-3·N(0, 1)), as P-DARTS does at each stage; the active
    /// candidates stay.
    pub fn reinitialise(&mut self) {
        let rng = self.rng.get_mut().unwrap_or_else(|e| e.into_inner());
        archon_plugin_api::tch::no_grad(|| {
            for a in &mut self.alphas {
                let fresh = rng.normal_tensor(&a.size(), 0.0, 1e-3, a.device());
                a.copy_(&fresh);
            }
        });
    }

    /// The decisions.
    pub fn choices(&self) -> &[ChoiceInfo] {
        &self.choices
    }

    /// The α tensors (leaves with gradients).
    pub fn parameters(&self) -> &[Tensor] {
        &self.alphas
    }

    /// The candidates of decision `k` that still take part.
    pub fn active(&self, k: usize) -> &[usize] {
        &self.active[k]
    }

    /// Restricts decision `k` to the candidates `keep` (P-DARTS's shrinking).
    pub fn restrict(&mut self, k: usize, keep: Vec<usize>) {
        self.active[k] = keep;
    }

    /// Whether decision `k` is mixed by α (false: an input choice over DARTS edges).
    pub fn mixes(&self, k: usize) -> bool {
        self.uses[k] == AlphaUse::Mix
    }

    /// Softmax of α over the active candidates of decision `k`, as a vector over all
    /// its candidates (inactive ones 0). Detached.
    pub fn probabilities(&self, k: usize) -> Vec<f64> {
        let mut p = vec![0.0; self.choices[k].len()];
        let idx = Tensor::from_slice(&self.active[k].iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(self.alphas[k].device());
        let soft = self.alphas[k]
            .detach()
            .index_select(0, &idx)
            .softmax(0, Kind::Float)
            .to_device(Device::Cpu);
        let values: Vec<f64> = Vec::<f64>::try_from(soft.to_kind(Kind::Double)).unwrap_or_default();
        for (j, &i) in self.active[k].iter().enumerate() {
            p[i] = values.get(j).copied().unwrap_or(0.0);
        }
        p
    }

    /// The probabilities of every decision, by label (for reports and the web UI).
    pub fn report(&self) -> BTreeMap<String, Vec<f64>> {
        (0..self.choices.len())
            .filter(|&k| self.mixes(k))
            .map(|k| (self.choices[k].label.clone(), self.probabilities(k)))
            .collect()
    }

    /// Sets every decision of `net` from α.
    pub fn apply(&self, ctx: &mut SupernetContext<'_>, net: NetId, mixture: Mixture) -> Result<()> {
        for (k, c) in self.choices.iter().enumerate() {
            let setting = match self.uses[k] {
                AlphaUse::SumEdges if self.edge_normalization => self.setting(k, mixture),
                AlphaUse::SumEdges => Setting::Fixed((0..c.len()).collect()),
                AlphaUse::Mix => self.setting(k, mixture),
            };
            ctx.set(net, &c.label, setting)?;
        }
        Ok(())
    }

    fn setting(&self, k: usize, mixture: Mixture) -> Setting {
        let active = &self.active[k];
        if active.len() == 1 {
            return Setting::Fixed(active.clone());
        }
        let alpha = &self.alphas[k];
        let idx = Tensor::from_slice(&active.iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(alpha.device());
        let logits = alpha.index_select(0, &idx);
        match mixture {
            Mixture::Softmax { grad } => {
                let w = logits.softmax(0, Kind::Float);
                Setting::Weighted {
                    indices: active.clone(),
                    weights: if grad { w } else { w.detach() },
                }
            }
            Mixture::Gumbel { tau } => {
                // g = -log(-log(U)), U ~ (0, 1); drawn until finite (as GDAS does).
                let probs = loop {
                    let u = self
                        .rng
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .uniform_tensor(&logits.size(), 0.0, 1.0, logits.device())
                        .clamp(1e-10, 1.0 - 1e-10);
                    let gumbel = -(-u.log()).log();
                    let probs = ((logits.log_softmax(0, Kind::Float) + gumbel) / tau)
                        .softmax(0, Kind::Float);
                    if probs.isfinite().all().int64_value(&[]) == 1 {
                        break probs;
                    }
                };
                let j = probs.argmax(0, false).int64_value(&[]);
                let p = probs.narrow(0, j, 1);
                // Straight-through: the value is 1, the gradient is the softmax's.
                let hard = p.ones_like() - p.detach() + p;
                Setting::Weighted {
                    indices: vec![active[j as usize]],
                    weights: hard,
                }
            }
        }
    }

    /// α and the active candidates as JSON (Adam's moments are not kept: a resumed
    /// search restarts them).
    pub fn state(&self) -> serde_json::Value {
        let alphas: Vec<Vec<f32>> = self
            .alphas
            .iter()
            .map(|a| Vec::<f32>::try_from(a.detach().to_device(Device::Cpu)).unwrap_or_default())
            .collect();
        let rng = self.rng.lock().unwrap_or_else(|e| e.into_inner()).clone();
        serde_json::json!({ "alphas": alphas, "active": self.active, "rng": rng })
    }

    /// Restores [`state`](Self::state).
    pub fn load(&mut self, state: &serde_json::Value) -> Result<()> {
        let bad = |why: &str| PluginError::invalid_input(format!("architecture parameters: {why}"));
        let alphas: Vec<Vec<f32>> =
            serde_json::from_value(state["alphas"].clone()).map_err(|e| bad(&e.to_string()))?;
        let active: Vec<Vec<usize>> =
            serde_json::from_value(state["active"].clone()).map_err(|e| bad(&e.to_string()))?;
        if alphas.len() != self.alphas.len() || active.len() != self.alphas.len() {
            return Err(bad("saved for another search space"));
        }
        for (k, (values, act)) in alphas.iter().zip(&active).enumerate() {
            let n = self.choices[k].len();
            if values.len() != n || act.is_empty() || act.iter().any(|&i| i >= n) {
                return Err(bad(&format!(
                    "decision {:?} does not match",
                    self.choices[k].label
                )));
            }
        }
        archon_plugin_api::tch::no_grad(|| {
            for (a, values) in self.alphas.iter_mut().zip(&alphas) {
                a.copy_(&Tensor::from_slice(values).to_device(a.device()));
            }
        });
        self.active = active;
        // States saved before the generator was part of them keep the fresh one.
        if let Some(saved) = state.get("rng") {
            let rng: SeededRng =
                serde_json::from_value(saved.clone()).map_err(|e| bad(&format!("rng: {e}")))?;
            *self.rng.get_mut().unwrap_or_else(|e| e.into_inner()) = rng;
        }
        Ok(())
    }

    /// Zeroes α's gradients.
    pub fn zero_grad(&mut self) {
        self.opt.zero_grad();
    }

    /// Sets α's gradients to `grads` (one per decision, as from `run_backward`).
    pub fn set_grads(&mut self, grads: &[Tensor]) {
        self.opt.zero_grad();
        pass_on_gradients(self.alphas.iter().zip(grads));
    }

    /// One Adam step on the gradients α holds.
    pub fn step(&mut self) {
        self.opt.step();
    }
}
