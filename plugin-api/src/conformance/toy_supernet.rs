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

use crate::{
    error::{PluginError, Result},
    one_shot::{
        Batch, CandidateCost, ChoiceInfo, CostTable, NetId, NetworkSpec, Report, SearchInfo,
        Setting, SupernetHost,
    },
    space::{Architecture, SearchSpace, Selection},
};
use serde_json::{json, Value};
use std::collections::HashMap;
use tch::{nn, nn::Module, nn::OptimizerConfig, Device, Kind, Tensor};

const GROUP: i64 = 4;
const CLASSES: i64 = 4;
const INPUTS: [&str; 2] = ["x", "noise"];
const OPS: [&str; 3] = ["noise", "identity", "square"];

struct ToyNet {
    vs: nn::VarStore,
    classifier: nn::Linear,
    opt: nn::Optimizer,
    settings: HashMap<String, Setting>,
    ops: Vec<String>,
}

impl ToyNet {
    fn new(lr: f64, ops: Vec<String>) -> Result<Self> {
        let vs = nn::VarStore::new(Device::Cpu);
        let features = GROUP * ops.len() as i64;
        let classifier = nn::linear(
            vs.root() / "classifier",
            features,
            CLASSES,
            Default::default(),
        );
        let opt = nn::Sgd {
            momentum: 0.9,
            ..Default::default()
        }
        .build(&vs, lr)
        .map_err(|e| PluginError::internal(e.to_string()))?;
        Ok(ToyNet {
            vs,
            classifier,
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

    fn forward(&self, xs: &Tensor, dropout: &Option<(String, f64)>, train: bool) -> Result<Tensor> {
        let features = self.mix("input", &[xs.shallow_clone(), xs.randn_like()])?;
        let mut branches = Vec::with_capacity(self.ops.len());
        for (b, label) in self.ops.iter().enumerate() {
            let f = features.narrow(1, GROUP * b as i64, GROUP);
            // The noise op gives other examples' values (the batch reversed): as
            // uninformative about each example's class as noise, but deterministic.
            let mut ops = vec![f.flip([0]).cos(), f.shallow_clone(), f.square()];
            if let Some((name, p)) = dropout {
                if let Some(i) = OPS.iter().position(|o| o == name) {
                    ops[i] = ops[i].dropout(*p, train);
                }
            }
            branches.push(self.mix(label, &ops)?);
        }
        Ok(self.classifier.forward(&Tensor::cat(&branches, 1)))
    }
}

/// The toy supernet host (see the module documentation).
pub struct ToySupernet {
    info: SearchInfo,
    ops: Vec<String>,
    nets: Vec<ToyNet>,
    data: [(Tensor, Tensor); 2],
    cursor: [i64; 2],
    dropout: Option<(String, f64)>,
    lr: f64,
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
        if branches == 0 {
            return Err(PluginError::invalid_input("a toy supernet needs a branch"));
        }
        tch::manual_seed(seed as i64);
        let features = GROUP * branches as i64;
        let teacher = Tensor::randn([features, CLASSES], (Kind::Float, Device::Cpu));
        let make = |n: i64| {
            let xs = Tensor::randn([n, features], (Kind::Float, Device::Cpu));
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
            kind: "input".into(),
            candidates: INPUTS.iter().map(|s| s.to_string()).collect(),
            n_chosen: Some(1),
            edges: Vec::new(),
        }];
        for label in &ops {
            space.insert(
                label.clone(),
                json!({"_type": "layer_choice", "_value": OPS}),
            );
            choices.push(ChoiceInfo {
                label: label.clone(),
                kind: "layer".into(),
                candidates: OPS.iter().map(|s| s.to_string()).collect(),
                n_chosen: None,
                edges: Vec::new(),
            });
        }
        let info = SearchInfo {
            space: "toy".into(),
            choices,
            search_space: Value::Object(space),
            epochs,
            steps_per_epoch,
            batch_size: 32,
            device: "cpu".into(),
            seed,
        };
        let lr = 0.05;
        Ok(ToySupernet {
            info,
            nets: vec![ToyNet::new(lr, ops.clone())?],
            ops,
            data: [make(1024), make(1024)],
            cursor: [0, 0],
            dropout: None,
            lr,
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

    fn next_batch(&mut self, valid: bool) -> Result<Batch> {
        let split = usize::from(valid);
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
        let dropout = self.dropout.clone();
        self.net(net)?.forward(inputs, &dropout, true)
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
        let mut net = ToyNet::new(self.lr, self.ops.clone())?;
        if let Some(arch) = &spec.architecture {
            let space = self.search_space()?;
            let arch = Architecture::from_json(&space, arch)?;
            for (choice, sel) in space.choices().iter().zip(arch.selections()) {
                let indices = match sel {
                    Selection::One(i) => vec![*i],
                    Selection::Many(v) => v.clone(),
                };
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
            let indices = match sel {
                Selection::One(i) => vec![*i],
                Selection::Many(v) => v.clone(),
            };
            self.set(net, choice.name(), Setting::Fixed(indices))?;
        }
        let (xs, ys) = &self.data[1];
        let n = if batches == 0 {
            xs.size()[0]
        } else {
            (batches as i64 * 32).min(xs.size()[0])
        };
        let (xs, ys) = (xs.narrow(0, 0, n), ys.narrow(0, 0, n));
        let logits = tch::no_grad(|| self.nets[net as usize].forward(&xs, &None, false))?;
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
        let fresh = ToyNet::new(self.lr, self.ops.clone())?;
        *self.net(net)? = fresh;
        Ok(())
    }

    fn set_dropout(&mut self, _net: NetId, candidate: &str, p: f64) -> Result<()> {
        self.dropout = (p > 0.0).then(|| (candidate.to_string(), p));
        Ok(())
    }

    fn report(&mut self, report: Report) -> Result<()> {
        self.reports.push(report);
        Ok(())
    }
}
