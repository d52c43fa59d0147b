//! The host's side of a one-shot search: the supernet (and any networks the trainer
//! builds), the data splits, the weight optimizers — lent to the trainer through
//! [`SupernetHost`].

use archon_core::costs;
use archon_plugin_api::{
    one_shot::{
        one_pass_step, Batch, CandidateRole, CostTable, Grads, NetId, NetworkSpec, Report,
        SearchInfo, Setting, Split, StepOutput, SupernetHost,
    },
    tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor},
    Architecture, PluginError, Result,
};
use archon_spaces::{
    data::{permutation, Dataset},
    hub::{SpaceConfig, SpaceFamily},
    Child, Supernet,
};
use serde_json::Value;

/// A network the trainer can drive.
pub enum Model {
    /// A supernet steered by settings.
    Supernet(Supernet),
    /// A fixed child network.
    Child(Child),
}

impl Model {
    /// The child of `architecture`, or a supernet without one.
    fn build(
        family: &dyn SpaceFamily,
        cfg: &SpaceConfig,
        architecture: Option<&Value>,
        device: Device,
    ) -> archon_spaces::Result<Self> {
        Ok(match architecture {
            Some(arch) => Model::Child(Child::build(family, cfg, arch, device)?),
            None => Model::Supernet(Supernet::build(family, cfg, device)?),
        })
    }

    fn var_store(&self) -> &nn::VarStore {
        match self {
            Model::Supernet(s) => s.var_store(),
            Model::Child(c) => c.var_store(),
        }
    }

    fn var_store_mut(&mut self) -> &mut nn::VarStore {
        match self {
            Model::Supernet(s) => s.var_store_mut(),
            Model::Child(c) => c.var_store_mut(),
        }
    }

    fn forward(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        match self {
            Model::Supernet(s) => s.forward(xs, train),
            Model::Child(c) => c.forward(xs, train),
        }
        .map_err(err)
    }
}

/// A network with its optimizer and the space config it was built with.
pub struct Net {
    /// The network.
    pub model: Model,
    opt: nn::Optimizer,
    cfg: SpaceConfig,
    /// The architecture of a child network.
    architecture: Option<Value>,
}

impl Net {
    /// Sets the learning rate: `lr`, and `lr × shared_lr_scale` for a supernet's shared
    /// weights.
    fn set_lr(&mut self, lr: f64, shared_lr_scale: f64) {
        self.opt.set_lr(lr);
        if matches!(self.model, Model::Supernet(_)) && shared_lr_scale != 1.0 {
            self.opt.set_lr_group(SHARED_GROUP, lr * shared_lr_scale);
        }
    }
}

/// The weight optimizer's settings.
#[derive(Debug, Clone, Copy)]
pub struct WeightOptim {
    /// SGD momentum.
    pub momentum: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Gradient-norm clip (0: off).
    pub grad_clip: f64,
    /// The factor on the learning rate of a supernet's shared weights (outside every
    /// candidate); 1: one learning rate for all.
    pub shared_lr_scale: f64,
}

/// The optimizer parameter group of a supernet's shared weights when they have their
/// own learning rate (the candidates' weights stay in group 0).
const SHARED_GROUP: usize = 1;

/// Walks a split in seeded random order, one batch at a time, reshuffling each pass.
/// Its place is (pass, position), enough to continue after a checkpoint.
struct Cursor {
    data: Dataset,
    order: Tensor,
    position: i64,
    pass: u64,
    seed: u64,
}

impl Cursor {
    fn new(data: Dataset, seed: u64) -> Self {
        let order = permutation(data.len(), seed);
        Cursor {
            data,
            order,
            position: 0,
            pass: 0,
            seed,
        }
    }

    fn order_of(&self, pass: u64) -> Tensor {
        permutation(self.data.len(), self.seed.wrapping_add(pass))
    }

    fn restore(&mut self, pass: u64, position: i64) {
        self.order = self.order_of(pass);
        self.pass = pass;
        self.position = position.clamp(0, self.data.len() as i64);
    }

    fn next(&mut self, batch: i64) -> (Tensor, Tensor) {
        let n = self.data.len() as i64;
        let batch = batch.min(n);
        if self.position + batch > n {
            self.pass += 1;
            self.order = self.order_of(self.pass);
            self.position = 0;
        }
        let idx = self.order.narrow(0, self.position, batch);
        self.position += batch;
        (
            self.data.inputs.index_select(0, &idx),
            self.data.labels.index_select(0, &idx),
        )
    }
}

fn err(e: impl std::fmt::Display) -> PluginError {
    PluginError::invalid_input(e.to_string())
}

/// The file of a finished search's supernet weights, in its experiment folder.
pub const SUPERNET_WEIGHTS: &str = "supernet.safetensors";
/// The file of the space options that supernet was built with.
pub const SUPERNET_OPTIONS: &str = "supernet.json";

/// Everything the host lends to a one-shot trainer.
pub struct SearchHost<'a> {
    family: &'static dyn SpaceFamily,
    device: Device,
    nets: Vec<Net>,
    cursors: [Cursor; 2],
    info: SearchInfo,
    optim: WeightOptim,
    lr: f64,
    /// Replicas each supernet's training passes are split across.
    replicas: usize,
    sink: &'a mut dyn FnMut(Report) -> anyhow::Result<()>,
}

impl<'a> SearchHost<'a> {
    /// A search over `supernet` with the weight split `train` and the architecture
    /// split `valid` (both already on `device`); reports go to `sink`.
    #[allow(clippy::too_many_arguments)] // one constructor, called once
    pub fn new(
        family: &'static dyn SpaceFamily,
        cfg: SpaceConfig,
        supernet: Supernet,
        (train, valid): (Dataset, Dataset),
        info: SearchInfo,
        optim: WeightOptim,
        lr: f64,
        sink: &'a mut dyn FnMut(Report) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
        let device = supernet.var_store().device();
        let seed = info.seed;
        let mut host = SearchHost {
            family,
            device,
            nets: Vec::new(),
            cursors: [Cursor::new(train, seed), Cursor::new(valid, seed ^ 0x5eed)],
            info,
            optim,
            lr,
            replicas: 1,
            sink,
        };
        host.push(Model::Supernet(supernet), cfg, None)?;
        Ok(host)
    }

    /// Splits every supernet's training passes across `n` replicas from now on
    /// ([`Supernet::forward_backward`]).
    pub fn with_replicas(mut self, n: usize) -> anyhow::Result<Self> {
        self.replicas = n.max(1);
        let family = self.family;
        for net in &mut self.nets {
            if let Model::Supernet(s) = &mut net.model {
                s.set_replicas(family, &net.cfg, self.replicas)?;
            }
        }
        Ok(self)
    }

    /// `model` with a fresh weight optimizer.
    fn net_of(
        &self,
        mut model: Model,
        cfg: SpaceConfig,
        architecture: Option<Value>,
    ) -> anyhow::Result<Net> {
        if let Model::Supernet(supernet) = &mut model {
            supernet.set_replicas(self.family, &cfg, self.replicas)?;
            if self.optim.shared_lr_scale != 1.0 {
                let trainable = supernet.var_store().trainable_variables().len();
                if supernet.group_shared_weights(SHARED_GROUP) == trainable {
                    anyhow::bail!(
                        "weights.shared_lr_scale: this space has no weights inside layer-choice \
                         candidates (its choices slice shared weights), so every weight would \
                         learn at lr × {}; remove the key or set it to 1",
                        self.optim.shared_lr_scale
                    );
                }
            }
        }
        let opt = nn::Sgd {
            momentum: self.optim.momentum,
            dampening: 0.0,
            wd: self.optim.weight_decay,
            nesterov: false,
        }
        .build(model.var_store(), self.lr)?;
        let mut net = Net {
            model,
            opt,
            cfg,
            architecture,
        };
        net.set_lr(self.lr, self.optim.shared_lr_scale);
        Ok(net)
    }

    fn push(
        &mut self,
        model: Model,
        cfg: SpaceConfig,
        architecture: Option<Value>,
    ) -> anyhow::Result<NetId> {
        let net = self.net_of(model, cfg, architecture)?;
        self.nets.push(net);
        Ok((self.nets.len() - 1) as NetId)
    }

    /// Sets the learning rate of every network's optimizer (the epoch's schedule).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
        for net in &mut self.nets {
            net.set_lr(lr, self.optim.shared_lr_scale);
        }
    }

    /// Saves every network's weights into `dir` (`net<k>.safetensors`) and returns
    /// what else a resumed search needs: each network's options (and architecture,
    /// for a child) and where each split's walk is.
    pub fn snapshot(&self, dir: &std::path::Path) -> anyhow::Result<Value> {
        std::fs::create_dir_all(dir)?;
        let mut nets = Vec::new();
        for (k, net) in self.nets.iter().enumerate() {
            net.model
                .var_store()
                .save(dir.join(format!("net{k}.safetensors")))?;
            nets.push(serde_json::json!({
                "options": net.cfg.options.as_map(),
                "architecture": net.architecture,
            }));
        }
        let cursors: Vec<Value> = self
            .cursors
            .iter()
            .map(|c| serde_json::json!({"pass": c.pass, "position": c.position}))
            .collect();
        Ok(serde_json::json!({"nets": nets, "cursors": cursors}))
    }

    /// Restores a [`snapshot`](Self::snapshot): rebuilds the networks with their
    /// options, loads their weights, and puts the splits' walks back.
    pub fn restore(&mut self, dir: &std::path::Path, snapshot: &Value) -> anyhow::Result<()> {
        let nets = snapshot["nets"]
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("the checkpoint lists no networks"))?;
        let base = self.nets[0].cfg.clone();
        let mut rebuilt = Vec::new();
        for (k, saved) in nets.iter().enumerate() {
            let options = saved["options"].as_object().cloned().unwrap_or_default();
            let cfg = Self::config_with(&base, &options)?;
            let architecture = saved["architecture"]
                .as_object()
                .map(|_| saved["architecture"].clone());
            let mut model = Model::build(self.family, &cfg, architecture.as_ref(), self.device)?;
            let path = dir.join(format!("net{k}.safetensors"));
            model
                .var_store_mut()
                .load(&path)
                .map_err(|e| anyhow::anyhow!("loading {}: {e}", path.display()))?;
            rebuilt.push((model, cfg, architecture));
        }
        self.nets.clear();
        for (model, cfg, architecture) in rebuilt {
            self.push(model, cfg, architecture)?;
        }
        if let Some(cursors) = snapshot["cursors"].as_array() {
            for (cursor, saved) in self.cursors.iter_mut().zip(cursors) {
                cursor.restore(
                    saved["pass"].as_u64().unwrap_or(0),
                    saved["position"].as_i64().unwrap_or(0),
                );
            }
        }
        Ok(())
    }

    /// Saves the supernet's weights (network 0) as `<dir>/supernet.safetensors` and its
    /// space options as `<dir>/supernet.json`, for judging its ranking afterwards
    /// (`archon bench quality`).
    pub fn save_supernet(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        let net = &self.nets[0];
        if let Model::Supernet(s) = &net.model {
            s.var_store().save(dir.join(SUPERNET_WEIGHTS))?;
            std::fs::write(
                dir.join(SUPERNET_OPTIONS),
                Value::Object(net.cfg.options.as_map().clone()).to_string(),
            )?;
        }
        Ok(())
    }

    fn net(&mut self, id: NetId) -> Result<&mut Net> {
        let count = self.nets.len();
        self.nets.get_mut(id as usize).ok_or_else(|| {
            PluginError::invalid_input(format!(
                "no network {id} (this search has {count}: 0 is the supernet)"
            ))
        })
    }

    fn supernet_mut(&mut self, id: NetId, what: &str) -> Result<&mut Supernet> {
        match &mut self.net(id)?.model {
            Model::Supernet(s) => Ok(s),
            Model::Child(_) => Err(PluginError::invalid_input(format!(
                "{what}: network {id} is a child network, which has no choices"
            ))),
        }
    }

    fn config_with(
        base: &SpaceConfig,
        options: &serde_json::Map<String, Value>,
    ) -> Result<SpaceConfig> {
        let mut merged = base.options.as_map().clone();
        for (k, v) in options {
            merged.insert(k.clone(), v.clone());
        }
        let mut cfg = base.clone();
        cfg.options =
            archon_plugin_api::Options::from_json_str(&Value::Object(merged).to_string())?;
        Ok(cfg)
    }
}

impl SupernetHost for SearchHost<'_> {
    fn info(&self) -> SearchInfo {
        self.info.clone()
    }

    fn set(&mut self, net: NetId, label: &str, setting: Setting) -> Result<()> {
        self.supernet_mut(net, "set")?
            .set(label, setting)
            .map_err(err)
    }

    fn next_batch(&mut self, split: Split) -> Result<Batch> {
        let batch = self.info.batch_size;
        let (inputs, labels) = self.cursors[split as usize].next(batch);
        Ok(Batch { inputs, labels })
    }

    fn forward(&mut self, net: NetId, inputs: &Tensor) -> Result<Tensor> {
        self.net(net)?.model.forward(inputs, true)
    }

    fn forward_backward(
        &mut self,
        net: NetId,
        inputs: &Tensor,
        labels: &Tensor,
        grads: Grads,
    ) -> Result<StepOutput> {
        match &mut self.net(net)?.model {
            Model::Supernet(s) => s.forward_backward(inputs, labels, grads).map_err(err),
            Model::Child(c) => {
                let logits = c.forward(inputs, true).map_err(err)?;
                let weights = c.var_store().trainable_variables();
                Ok(one_pass_step(&logits, labels, &weights, &[], grads))
            }
        }
    }

    fn weights(&mut self, net: NetId) -> Result<Vec<Tensor>> {
        Ok(self.net(net)?.model.var_store().trainable_variables())
    }

    fn zero_grad(&mut self, net: NetId) -> Result<()> {
        self.net(net)?.opt.zero_grad();
        Ok(())
    }

    fn weight_step(&mut self, net: NetId) -> Result<()> {
        let clip = self.optim.grad_clip;
        let net = self.net(net)?;
        if clip > 0.0 {
            net.opt.clip_grad_norm(clip);
        }
        net.opt.step();
        net.opt.zero_grad();
        Ok(())
    }

    fn weight_lr(&self, _net: NetId) -> f64 {
        self.lr
    }

    fn build_network(&mut self, spec: &NetworkSpec) -> Result<NetId> {
        let base = self.nets[0].cfg.clone();
        let cfg = Self::config_with(&base, &spec.options)?;
        let model = Model::build(self.family, &cfg, spec.architecture.as_ref(), self.device)
            .map_err(err)?;
        self.push(model, cfg, spec.architecture.clone())
            .map_err(err)
    }

    fn evaluate(
        &mut self,
        net: NetId,
        architecture: &Value,
        recalibrate: usize,
        batches: usize,
    ) -> Result<f64> {
        let batch = self.info.batch_size;
        let cursor = &mut self.cursors[0];
        let model = &mut self
            .nets
            .get_mut(net as usize)
            .ok_or_else(|| PluginError::invalid_input(format!("no network {net}")))?
            .model;
        if let Model::Supernet(s) = model {
            let arch = Architecture::from_json(s.search_space(), architecture)?;
            s.set_architecture(&arch).map_err(err)?;
            if recalibrate > 0 {
                let mut left = recalibrate;
                s.recalibrate_batch_norm(&mut || {
                    (left > 0).then(|| {
                        left -= 1;
                        cursor.next(batch).0
                    })
                })
                .map_err(err)?;
            }
        }
        let valid = &self.cursors[1].data;
        let n = valid.len() as i64;
        let limit = if batches == 0 {
            n
        } else {
            (batches as i64 * batch).min(n)
        };
        let (inputs, labels) = (
            valid.inputs.narrow(0, 0, limit),
            valid.labels.narrow(0, 0, limit),
        );
        let model = &self.nets[net as usize].model;
        let mut correct = 0i64;
        let mut begin = 0;
        while begin < limit {
            let len = batch.min(limit - begin);
            let logits = archon_plugin_api::tch::no_grad(|| {
                model.forward(&inputs.narrow(0, begin, len), false)
            })?;
            correct += logits
                .argmax(-1, false)
                .eq_tensor(&labels.narrow(0, begin, len))
                .sum(Kind::Int64)
                .int64_value(&[]);
            begin += len;
        }
        Ok(correct as f64 / limit.max(1) as f64)
    }

    fn costs(&mut self, net: NetId) -> Result<CostTable> {
        let cfg = self.net(net)?.cfg.clone();
        let example = self.cursors[0].data.inputs.narrow(0, 0, 1);
        let family = self.family;
        let supernet = self.supernet_mut(net, "costs")?;
        costs::cached_table(
            family,
            &cfg,
            supernet.choices(),
            supernet.search_space(),
            &example,
        )
    }

    fn rebuild(&mut self, net: NetId, options: &Value) -> Result<()> {
        let options = options.as_object().cloned().ok_or_else(|| {
            PluginError::invalid_input(format!(
                "rebuild options must be a JSON object, not {options}"
            ))
        })?;
        let base = self.net(net)?.cfg.clone();
        let cfg = Self::config_with(&base, &options)?;
        if let Model::Child(_) = &self.net(net)?.model {
            return Err(PluginError::invalid_input(format!(
                "rebuild: network {net} is a child; build a new one with build_network"
            )));
        }
        let model = Model::build(self.family, &cfg, None, self.device).map_err(err)?;
        let fresh = self.net_of(model, cfg, None).map_err(err)?;
        self.nets[net as usize] = fresh;
        Ok(())
    }

    fn set_dropout(&mut self, net: NetId, role: CandidateRole, p: f64) -> Result<()> {
        self.supernet_mut(net, "set_dropout")?.set_dropout(role, p);
        Ok(())
    }

    fn report(&mut self, report: Report) -> Result<()> {
        (self.sink)(report).map_err(|e| PluginError::internal(format!("{e:#}")))
    }
}
