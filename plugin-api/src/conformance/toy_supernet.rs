//! A tiny supernet with a known best architecture, implemented on tch alone, for the
//! trainer checks and for behaviour tests of one-shot algorithms.
//!
//! Examples are `4·B` numbers x ~ N(0, 1) in `B` branches of 4; the class (of 4) is the
//! argmax of `W* · (x² − 1)` for a fixed random `W*` (balanced classes). Decisions:
//! - `input` (an input choice, 1 of `["x", "noise"]`) picks the features: the example,
//!   or fresh noise;
//! - `op` (one branch) or `op0` … `op{B-1}` (a layer choice per branch, `["noise",
//!   "identity", "square"]`) transforms each branch's 4 features.
//!
//! A linear classifier (the host's weights) follows. Only `input = x` with `square` on
//! every branch fits the labels fully, and each `square` helps on its own, so a working
//! search favours them. Costs: `square` adds 1 ms of latency and 4 MACs per branch,
//! `identity` 0.1 ms, `noise` nothing, over a 1 ms reference. Any network built or
//! rebuilt is another copy with fresh weights; `rebuild` accepts any options.
//!
//! The candidates declare their roles (`noise` and `square` parameter-free, `identity`
//! the identity) and every op decision belongs to the group `branches`; the input
//! decision stands alone. [`ToySupernet::renamed`] gives the op candidates other names
//! (a third-party space's), which no trainer may notice. Every random number (data,
//! noise, dropout, weights) comes from the supernet's own seeded generator.

use super::toy_rng::ToyRng;
use crate::{
    error::{PluginError, Result},
    one_shot::{
        one_pass_step, Batch, CandidateCost, CandidateRole, ChoiceInfo, CostTable, DecisionKind,
        Grads, NetId, NetworkSpec, Report, SearchDevice, SearchInfo, Setting, Split, StepOutput,
        SupernetHost,
    },
    space::{Architecture, SearchSpace, Selection},
};
use serde_json::{json, Value};
use std::collections::HashMap;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

const GROUP: i64 = 4;
const CLASSES: i64 = 4;
const INPUTS: [&str; 2] = ["x", "noise"];
const OPS: [&str; 3] = ["noise", "identity", "square"];
const ROLES: [CandidateRole; 3] = [
    CandidateRole::ParameterFree,
    CandidateRole::Identity,
    CandidateRole::ParameterFree,
];

struct ToyNet {
    vs: nn::VarStore,
    weight: Tensor,
    bias: Tensor,
    opt: nn::Optimizer,
    settings: HashMap<String, Setting>,
    ops: Vec<String>,
}

impl ToyNet {
    /// A fresh network whose classifier is drawn from `rng` (PyTorch's default
    /// U(±1/√fan_in) for a linear layer).
    fn new(lr: f64, ops: Vec<String>, rng: &mut ToyRng) -> Result<Self> {
        let vs = nn::VarStore::new(Device::Cpu);
        let features = GROUP * ops.len() as i64;
        let bound = 1.0 / (features as f64).sqrt();
        let p = vs.root() / "classifier";
        let weight = p.var_copy("weight", &rng.uniform_tensor(&[CLASSES, features], bound));
        let bias = p.var_copy("bias", &rng.uniform_tensor(&[CLASSES], bound));
        let opt = nn::Sgd {
            momentum: 0.9,
            ..Default::default()
        }
        .build(&vs, lr)
        .map_err(|e| PluginError::internal(e.to_string()))?;
        Ok(ToyNet {
            vs,
            weight,
            bias,
            opt,
            settings: HashMap::new(),
            ops,
        })
    }

    fn mix(&self, label: &str, candidates: &[Tensor]) -> Result<Tensor> {
        let setting = self.settings.get(label).ok_or_else(|| {
            PluginError::invalid_input(format!("choice {label:?} has no setting"))
        })?;
        Ok(match setting {
            Setting::Fixed(indices) => indices
                .iter()
                .map(|&i| candidates[i].shallow_clone())
                .reduce(|a, b| a + b)
                .unwrap_or_else(|| candidates[0].zeros_like()),
            Setting::Weighted { indices, weights } => indices
                .iter()
                .enumerate()
                .map(|(k, &i)| &candidates[i] * weights.get(k as i64))
                .reduce(|a, b| a + b)
                .unwrap_or_else(|| candidates[0].zeros_like()),
        })
    }

    fn forward(
        &self,
        xs: &Tensor,
        dropout: &Option<(CandidateRole, f64)>,
        train: bool,
        rng: &mut ToyRng,
    ) -> Result<Tensor> {
        let noise = rng.normal_tensor(&xs.size());
        let features = self.mix("input", &[xs.shallow_clone(), noise])?;
        let mut branches = Vec::with_capacity(self.ops.len());
        for (b, label) in self.ops.iter().enumerate() {
            let f = features.narrow(1, GROUP * b as i64, GROUP);
            // The noise op gives other examples' values (the batch reversed): as
            // uninformative about each example's class as noise, but deterministic.
            let mut ops = vec![f.flip([0]).cos(), f.shallow_clone(), f.square()];
            if let Some((role, p)) = dropout.filter(|_| train) {
                for (i, op) in ops.iter_mut().enumerate() {
                    if ROLES[i] == role {
                        let mask = rng.keep_mask(&op.size(), 1.0 - p);
                        *op = &*op * mask / (1.0 - p);
                    }
                }
            }
            branches.push(self.mix(label, &ops)?);
        }
        Ok(Tensor::cat(&branches, 1).linear(&self.weight, Some(&self.bias)))
    }
}

/// The toy supernet host (see the module documentation).
pub struct ToySupernet {
    info: SearchInfo,
    ops: Vec<String>,
    nets: Vec<ToyNet>,
    data: [(Tensor, Tensor); 2],
    cursor: [i64; 2],
    dropout: Option<(CandidateRole, f64)>,
    lr: f64,
    rng: ToyRng,
    /// Every report the trainer made, in order.
    pub reports: Vec<Report>,
}

impl ToySupernet {
    /// A toy search of `epochs` × `steps_per_epoch` steps of 32 examples, seeded, with
    /// one branch (decisions `input` and `op`).
    pub fn new(epochs: usize, steps_per_epoch: usize, seed: u64) -> Result<Self> {
        Self::with_branches(1, epochs, steps_per_epoch, seed)
    }

    /// The same with `branches` branches (decisions `input`, `op0`, `op1`, …).
    pub fn with_branches(
        branches: usize,
        epochs: usize,
        steps_per_epoch: usize,
        seed: u64,
    ) -> Result<Self> {
        Self::renamed(branches, epochs, steps_per_epoch, seed, OPS)
    }

    /// The same search with the op candidates called `names` instead of `noise`,
    /// `identity`, `square` (and the same roles): what a third-party space with its
    /// own op names looks like to a trainer.
    pub fn renamed(
        branches: usize,
        epochs: usize,
        steps_per_epoch: usize,
        seed: u64,
        names: [&str; 3],
    ) -> Result<Self> {
        if names
            .iter()
            .enumerate()
            .any(|(i, n)| names[..i].contains(n))
        {
            return Err(PluginError::invalid_input(format!(
                "toy supernet: op names {names:?} repeat"
            )));
        }
        if branches == 0 {
            return Err(PluginError::invalid_input("a toy supernet needs a branch"));
        }
        let mut rng = ToyRng::new(seed);
        let features = GROUP * branches as i64;
        let teacher = rng.normal_tensor(&[features, CLASSES]);
        let mut make = |n: i64| {
            let xs = rng.normal_tensor(&[n, features]);
            // x² − 1 has mean 0, so the classes are balanced.
            let ys = (xs.square() - 1.0).matmul(&teacher).argmax(-1, false);
            (xs, ys)
        };
        let ops: Vec<String> = if branches == 1 {
            vec!["op".into()]
        } else {
            (0..branches).map(|b| format!("op{b}")).collect()
        };
        let mut space = serde_json::Map::new();
        space.insert(
            "input".into(),
            json!({"_type": "input_choice", "_value": {"candidates": INPUTS, "n_chosen": 1}}),
        );
        let mut choices = vec![ChoiceInfo {
            label: "input".into(),
            kind: DecisionKind::Input,
            candidates: INPUTS.iter().map(|s| s.to_string()).collect(),
            roles: vec![CandidateRole::Input; INPUTS.len()],
            group: None,
            n_chosen: Some(1),
            edges: Vec::new(),
        }];
        for label in &ops {
            space.insert(
                label.clone(),
                json!({"_type": "layer_choice", "_value": names}),
            );
            choices.push(ChoiceInfo {
                label: label.clone(),
                kind: DecisionKind::Layer,
                candidates: names.iter().map(|s| s.to_string()).collect(),
                roles: ROLES.to_vec(),
                group: Some("branches".into()),
                n_chosen: None,
                edges: Vec::new(),
            });
        }
        let info = SearchInfo {
            space: "toy".into(),
            choices,
            cell_based: false,
            search_space: Value::Object(space),
            epochs,
            steps_per_epoch,
            batch_size: 32,
            device: SearchDevice::Cpu,
            seed,
            limits: Default::default(),
        };
        let lr = 0.05;
        let data = [make(1024), make(1024)];
        Ok(ToySupernet {
            info,
            nets: vec![ToyNet::new(lr, ops.clone(), &mut rng)?],
            ops,
            data,
            cursor: [0, 0],
            dropout: None,
            lr,
            rng,
            reports: Vec::new(),
        })
    }

    /// The NNI-format search space.
    pub fn search_space(&self) -> Result<SearchSpace> {
        SearchSpace::from_json(&self.info.search_space)
    }

    /// The known best architecture: `input = x`, `square` on every branch.
    pub fn best(&self) -> Result<Architecture> {
        let mut selections = vec![Selection::Many(vec![0])];
        selections.extend(self.ops.iter().map(|_| Selection::One(2)));
        Architecture::new(&self.search_space()?, selections)
    }

    /// The validation accuracy of `architecture` with the supernet's current weights.
    pub fn accuracy(&mut self, architecture: &Value) -> Result<f64> {
        self.evaluate(0, architecture, 0, 0)
    }

    fn net(&mut self, id: NetId) -> Result<&mut ToyNet> {
        self.nets
            .get_mut(id as usize)
            .ok_or_else(|| PluginError::invalid_input(format!("no network {id}")))
    }
}

impl SupernetHost for ToySupernet {
    fn info(&self) -> SearchInfo {
        self.info.clone()
    }

    fn set(&mut self, net: NetId, label: &str, setting: Setting) -> Result<()> {
        let choice = self
            .info
            .choice(label)
            .ok_or_else(|| PluginError::invalid_input(format!("no choice labelled {label:?}")))?;
        let n = choice.len();
        let (indices, weights) = match &setting {
            Setting::Fixed(i) => (i, None),
            Setting::Weighted { indices, weights } => (indices, Some(weights)),
        };
        if indices.iter().any(|&i| i >= n) || (indices.is_empty() && !choice.is_input()) {
            return Err(PluginError::invalid_input(format!(
                "setting for {label:?}: indices {indices:?} for {n} candidates"
            )));
        }
        if let Some(w) = weights {
            if w.size() != [indices.len() as i64] {
                return Err(PluginError::invalid_input(format!(
                    "setting for {label:?}: weights of shape {:?} for {} candidates",
                    w.size(),
                    indices.len()
                )));
            }
        }
        self.net(net)?.settings.insert(label.to_string(), setting);
        Ok(())
    }

    fn next_batch(&mut self, split: Split) -> Result<Batch> {
        let split = split as usize;
        let (xs, ys) = &self.data[split];
        let n = xs.size()[0];
        if self.cursor[split] + 32 > n {
            self.cursor[split] = 0;
        }
        let start = self.cursor[split];
        self.cursor[split] += 32;
        Ok(Batch {
            inputs: xs.narrow(0, start, 32),
            labels: ys.narrow(0, start, 32),
        })
    }

    fn forward(&mut self, net: NetId, inputs: &Tensor) -> Result<Tensor> {
        let net = self
            .nets
            .get(net as usize)
            .ok_or_else(|| PluginError::invalid_input(format!("no network {net}")))?;
        net.forward(inputs, &self.dropout, true, &mut self.rng)
    }

    fn forward_backward(
        &mut self,
        net: NetId,
        inputs: &Tensor,
        labels: &Tensor,
        grads: Grads,
    ) -> Result<StepOutput> {
        let logits = self.forward(net, inputs)?;
        let toy = self.net(net)?;
        let mixture: Vec<Tensor> = toy
            .settings
            .values()
            .filter_map(|s| match s {
                Setting::Weighted { weights, .. } => Some(weights.shallow_clone()),
                Setting::Fixed(_) => None,
            })
            .collect();
        Ok(one_pass_step(
            &logits,
            labels,
            &toy.vs.trainable_variables(),
            &mixture,
            grads,
        ))
    }

    fn weights(&mut self, net: NetId) -> Result<Vec<Tensor>> {
        Ok(self.net(net)?.vs.trainable_variables())
    }

    fn zero_grad(&mut self, net: NetId) -> Result<()> {
        self.net(net)?.opt.zero_grad();
        Ok(())
    }

    fn weight_step(&mut self, net: NetId) -> Result<()> {
        let net = self.net(net)?;
        net.opt.clip_grad_norm(5.0);
        net.opt.step();
        net.opt.zero_grad();
        Ok(())
    }

    fn weight_lr(&self, _net: NetId) -> f64 {
        self.lr
    }

    fn build_network(&mut self, spec: &NetworkSpec) -> Result<NetId> {
        let mut net = ToyNet::new(self.lr, self.ops.clone(), &mut self.rng)?;
        if let Some(arch) = &spec.architecture {
            let space = self.search_space()?;
            let arch = Architecture::from_json(&space, arch)?;
            for (choice, sel) in space.choices().iter().zip(arch.selections()) {
                let indices = sel.indices();
                net.settings
                    .insert(choice.name().to_string(), Setting::Fixed(indices));
            }
        }
        self.nets.push(net);
        Ok((self.nets.len() - 1) as NetId)
    }

    fn evaluate(
        &mut self,
        net: NetId,
        architecture: &Value,
        _recalibrate: usize,
        batches: usize,
    ) -> Result<f64> {
        let space = self.search_space()?;
        let arch = Architecture::from_json(&space, architecture)?;
        for (choice, sel) in space.choices().iter().zip(arch.selections()) {
            let indices = sel.indices();
            self.set(net, choice.name(), Setting::Fixed(indices))?;
        }
        let (xs, ys) = &self.data[1];
        let n = if batches == 0 {
            xs.size()[0]
        } else {
            (batches as i64 * 32).min(xs.size()[0])
        };
        let (xs, ys) = (xs.narrow(0, 0, n), ys.narrow(0, 0, n));
        let network = &self.nets[net as usize];
        let logits = tch::no_grad(|| network.forward(&xs, &None, false, &mut self.rng))?;
        Ok(logits
            .argmax(-1, false)
            .eq_tensor(&ys)
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]))
    }

    fn costs(&mut self, _net: NetId) -> Result<CostTable> {
        let cost = |flops: i64, latency_ms: f64| CandidateCost {
            params: 0,
            flops,
            latency_ms,
        };
        Ok(CostTable {
            reference: cost(GROUP * CLASSES * self.ops.len() as i64, 1.0),
            choices: self
                .ops
                .iter()
                .map(|l| {
                    (
                        l.clone(),
                        vec![cost(0, 0.0), cost(0, 0.1), cost(GROUP, 1.0)],
                    )
                })
                .collect(),
        })
    }

    fn rebuild(&mut self, net: NetId, _options: &Value) -> Result<()> {
        let fresh = ToyNet::new(self.lr, self.ops.clone(), &mut self.rng)?;
        *self.net(net)? = fresh;
        Ok(())
    }

    fn set_dropout(&mut self, _net: NetId, role: CandidateRole, p: f64) -> Result<()> {
        self.dropout = (p > 0.0).then_some((role, p));
        Ok(())
    }

    fn report(&mut self, report: Report) -> Result<()> {
        self.reports.push(report);
        Ok(())
    }
}
