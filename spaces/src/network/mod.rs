//! Supernets and children: a space built with its weights, ready to run.

use crate::{
    choice::{Builder, ChoicePoint, Setting, Settings},
    error::{Result, SpacesError},
    hub::{SpaceConfig, SpaceFamily},
    nn::{AuxSlot, BoxBlock, ConvCall, Ctx},
    parallel::TiedWeights,
};
use archon_plugin_api::{one_shot::CandidateRole, Architecture, SearchSpace};
use std::{
    cell::{Cell, RefCell},
    collections::{HashMap, HashSet},
};
use tch::{nn, Device, Tensor};

mod replicated;

/// The NNI-format search space of a set of choice points (one entry per label).
pub fn search_space_of(points: &[ChoicePoint]) -> Result<SearchSpace> {
    let mut map = serde_json::Map::new();
    for p in points {
        if map.contains_key(&p.label) {
            continue;
        }
        let value = p.kind.to_json();
        map.insert(p.label.clone(), value);
    }
    Ok(SearchSpace::from_json(&serde_json::Value::Object(map))?)
}

/// Runs a forward pass; its error (a failing cell plugin, a wrong shape) or panic
/// (libtorch's own errors) becomes a "forward pass failed" error.
fn guarded_forward(f: impl FnOnce() -> Result<Tensor>) -> Result<Tensor> {
    let failed = |message: String| {
        SpacesError::Config(format!(
            "forward pass failed: {}",
            message.lines().next().unwrap_or_default()
        ))
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(payload) => Err(failed(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown error".into()),
        )),
    }
}

/// Fails if a space built two parameters at one path (tch would silently rename the
/// second `name__N`, and weights would no longer carry over between supernet and child).
fn check_unique_paths(family: &dyn SpaceFamily, vs: &nn::VarStore) -> Result<()> {
    let vars = vs.variables();
    let mut clashes: Vec<&String> = vars
        .keys()
        .filter(|name| {
            name.rsplit_once("__")
                .is_some_and(|(_, n)| n.parse::<u64>().is_ok())
        })
        .collect();
    clashes.sort();
    match clashes.first() {
        Some(name) => Err(SpacesError::Config(format!(
            "space {} builds two parameters at one path ({name}): a bug in the space",
            family.name()
        ))),
        None => Ok(()),
    }
}

/// A supernet: every candidate of every choice, with shared weights, steered by
/// settings.
pub struct Supernet {
    vs: nn::VarStore,
    net: BoxBlock,
    points: Vec<ChoicePoint>,
    space: SearchSpace,
    settings: Settings,
    /// Further replicas for data-parallel passes (see [`Supernet::set_replicas`]).
    replicas: Vec<(Supernet, TiedWeights)>,
}

impl Supernet {
    /// Builds `family`'s supernet for `cfg` on `device`.
    pub fn build(family: &dyn SpaceFamily, cfg: &SpaceConfig, device: Device) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        let b = Builder::supernet();
        let net = family.build(&vs.root(), &b, cfg)?;
        check_unique_paths(family, &vs)?;
        let points = b.into_points();
        let space = search_space_of(&points)?;
        Ok(Supernet {
            vs,
            net,
            points,
            space,
            settings: Settings::default(),
            replicas: Vec::new(),
        })
    }

    /// Every choice point, in build order.
    pub fn choices(&self) -> &[ChoicePoint] {
        &self.points
    }

    /// Whether the variable `name` belongs to a layer choice's candidate (a weight
    /// only some paths train) rather than to the network around the choices (stem,
    /// fixed blocks, classifier: weights every path trains).
    pub fn is_candidate_weight(&self, name: &str) -> bool {
        self.points.iter().any(|point| {
            point.candidate_weights.iter().any(|prefix| {
                name.strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
            })
        })
    }

    /// Puts every trainable weight outside the candidates (see
    /// [`Self::is_candidate_weight`]) into optimizer parameter group `group`, the
    /// candidates' weights into group 0; returns how many weights moved to `group`.
    /// Optimizers built afterwards can then give the two their own learning rates.
    pub fn group_shared_weights(&mut self, group: usize) -> usize {
        let shared: HashSet<usize> = self
            .vs
            .variables()
            .into_iter()
            .filter(|(name, _)| !self.is_candidate_weight(name))
            .map(|(_, t)| t.data_ptr() as usize)
            .collect();
        let mut vars = self.vs.variables_.lock().expect("var store lock");
        let mut moved = 0;
        for var in &mut vars.trainable_variables {
            var.group = if shared.contains(&(var.tensor.data_ptr() as usize)) {
                moved += 1;
                group
            } else {
                0
            };
        }
        moved
    }

    /// The NNI-format search space (one entry per label).
    pub fn search_space(&self) -> &SearchSpace {
        &self.space
    }

    /// The weights.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Mutable access to the weights (for an optimizer or a device move).
    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// Sets the choice `label`.
    pub fn set(&mut self, label: &str, setting: Setting) -> Result<()> {
        let point = self
            .points
            .iter()
            .find(|p| p.label == label)
            .ok_or_else(|| {
                SpacesError::Config(format!("the supernet has no choice labelled {label:?}"))
            })?;
        self.settings.set(point, setting)
    }

    /// Fixes every choice to an architecture of this space.
    pub fn set_architecture(&mut self, arch: &Architecture) -> Result<()> {
        let mut settings = Settings::from_architecture(&self.points, &self.space, arch)?;
        std::mem::swap(&mut self.settings, &mut settings);
        self.settings.dropout_from(&settings);
        Ok(())
    }

    /// Dropout with probability `p` after every candidate of `role` (training passes
    /// only; 0 turns it off).
    pub fn set_dropout(&mut self, role: CandidateRole, p: f64) {
        self.settings.set_dropout(role, p);
    }

    /// Recalibrates batch-norm running statistics for the current settings (SPOS's
    /// BN recalibration): the running mean and variance become the plain average of
    /// the batch statistics over the training batches `next` yields (libtorch's running
    /// update with momentum 0.1 is undone batch by batch). Returns the batches used.
    pub fn recalibrate_batch_norm(
        &mut self,
        next: &mut dyn FnMut() -> Option<Tensor>,
    ) -> Result<usize> {
        const MOMENTUM: f64 = 0.1; // tch's BatchNormConfig default, used by every space
        let stats: Vec<Tensor> = self
            .vs
            .variables()
            .into_iter()
            .filter(|(name, _)| name.ends_with("running_mean") || name.ends_with("running_var"))
            .map(|(_, t)| t)
            .collect();
        let mut averages: Vec<Tensor> = Vec::new();
        let mut count = 0usize;
        while let Some(xs) = next() {
            let before: Vec<Tensor> = stats.iter().map(|t| t.detach().copy()).collect();
            let _logits = tch::no_grad(|| self.forward(&xs, true))?;
            count += 1;
            tch::no_grad(|| {
                for (k, (stat, prev)) in stats.iter().zip(&before).enumerate() {
                    let batch = (stat - prev * (1.0 - MOMENTUM)) / MOMENTUM;
                    if count == 1 {
                        averages.push(batch);
                    } else {
                        let avg = &averages[k] + (batch - &averages[k]) / count as f64;
                        averages[k] = avg;
                    }
                    stat.shallow_clone().copy_(&averages[k]);
                }
            });
        }
        Ok(count)
    }

    /// Runs the supernet under the current settings (every choice must be set).
    pub fn forward(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let missing = self.settings.missing(&self.points);
        if !missing.is_empty() {
            return Err(SpacesError::Config(format!(
                "choices without a setting: {}",
                missing.join(", ")
            )));
        }
        let aux = AuxSlot::default();
        guarded_forward(|| self.net.forward(xs, &Ctx::new(train, &self.settings, &aux)))
    }
}

impl Supernet {
    /// Every convolution one training-mode forward pass of `xs` runs under the current
    /// settings (for comparing a step with libtorch alone on the same convolutions).
    pub fn conv_calls(&self, xs: &Tensor) -> Result<Vec<ConvCall>> {
        conv_calls(&self.net, xs, &self.settings)
    }
}

/// Every convolution one training-mode forward pass of `xs` through `net` runs under
/// `settings` (no gradients are kept).
fn conv_calls(net: &BoxBlock, xs: &Tensor, settings: &Settings) -> Result<Vec<ConvCall>> {
    let calls = RefCell::new(Vec::new());
    let aux = AuxSlot::default();
    let _logits = tch::no_grad(|| {
        guarded_forward(|| net.forward(xs, &Ctx::new(true, settings, &aux).recording_convs(&calls)))
    })?;
    Ok(calls.into_inner())
}

/// Where a child keeps its input standardisation (not trained, but saved and
/// exported with the weights).
pub const STANDARDIZATION: &str = "input_standardization";

/// A child network: one architecture of a space, with only its own weights.
pub struct Child {
    vs: nn::VarStore,
    net: BoxBlock,
    no_settings: Settings,
    /// Per-channel `(mean, std)`, each `[1, C, 1, 1]`, subtracted and divided before
    /// the network (see [`Child::standardize_inputs`]).
    standardization: Option<(Tensor, Tensor)>,
}

impl Child {
    /// Builds the child of `family` for `arch` (an architecture of the space's search
    /// space for `cfg`, e.g. from `archon space gen`).
    pub fn build(
        family: &dyn SpaceFamily,
        cfg: &SpaceConfig,
        arch: &serde_json::Value,
        device: Device,
    ) -> Result<Self> {
        let space = Self::space_of(family, cfg)?;
        let arch = Architecture::from_json(&space, arch)?;
        let selections: HashMap<String, _> = space
            .choices()
            .iter()
            .map(|c| c.name().to_string())
            .zip(arch.selections().iter().cloned())
            .collect();
        let vs = nn::VarStore::new(device);
        let b = Builder::child(&selections);
        let net = family.build(&vs.root(), &b, cfg)?;
        check_unique_paths(family, &vs)?;
        Ok(Child {
            vs,
            net,
            no_settings: Settings::default(),
            standardization: None,
        })
    }

    /// Makes the child standardise its inputs by the per-channel mean and standard
    /// deviation of `inputs` (`[N, C, H, W]` float images, e.g. the training split):
    /// from now on it takes raw images, and its saved weights and exports carry the
    /// two `[1, C, 1, 1]` tensors (under [`STANDARDIZATION`]). Inputs of any other
    /// shape or kind (token ids) are left alone: returns whether it applies.
    pub fn standardize_inputs(&mut self, inputs: &Tensor) -> bool {
        if inputs.dim() != 4 || inputs.kind() != tch::Kind::Float || inputs.size()[0] == 0 {
            return false;
        }
        let c = inputs.size()[1];
        let dims = [0i64, 2, 3];
        let mean = inputs.mean_dim(dims.as_slice(), true, tch::Kind::Float);
        let std = inputs.std_dim(dims.as_slice(), true, true).clamp_min(1e-6);
        let (m, s) = self.standardization.take().unwrap_or_else(|| {
            let p = self.vs.root() / STANDARDIZATION;
            (
                p.zeros_no_train("mean", &[1, c, 1, 1]),
                p.ones_no_train("std", &[1, c, 1, 1]),
            )
        });
        tch::no_grad(|| {
            m.shallow_clone().copy_(&mean);
            s.shallow_clone().copy_(&std);
        });
        self.standardization = Some((m, s));
        true
    }

    /// `xs` standardised as [`Child::standardize_inputs`] set (unchanged otherwise).
    fn standardized(&self, xs: &Tensor) -> Tensor {
        match &self.standardization {
            Some((mean, std)) => (xs - mean) / std,
            None => xs.shallow_clone(),
        }
    }

    /// The search space of `family` for `cfg` (built on a throwaway CPU supernet).
    pub fn space_of(family: &dyn SpaceFamily, cfg: &SpaceConfig) -> Result<SearchSpace> {
        let vs = nn::VarStore::new(Device::Cpu);
        let b = Builder::supernet();
        family.build(&vs.root(), &b, cfg)?;
        search_space_of(&b.into_points())
    }

    /// The weights.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Mutable access to the weights.
    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// Copies this child's weights from a supernet of the same space (weight
    /// sharing). Where a value choice made the child's tensor smaller, it takes the
    /// supernet's slice: the first channels, and the centre of convolution kernels.
    pub fn load_from_supernet(&mut self, supernet: &Supernet) -> Result<()> {
        let source = supernet.var_store().variables();
        let device = self.vs.device();
        for (name, mut target) in self.vs.variables() {
            if name.starts_with(STANDARDIZATION) {
                continue; // the child's own, not a supernet weight
            }
            let src = source
                .get(&name)
                .ok_or_else(|| SpacesError::Config(format!("the supernet has no parameter {name:?}: was it built from the same space and options?")))?;
            let (want, have) = (target.size(), src.size());
            if want.len() != have.len() || want.iter().zip(&have).any(|(w, h)| w > h) {
                return Err(SpacesError::Config(format!("parameter {name:?}: the child's shape {want:?} does not fit in the supernet's {have:?}")));
            }
            let mut slice = src.shallow_clone();
            for (d, (&w, &h)) in want.iter().zip(&have).enumerate() {
                if w != h {
                    // Kernel dimensions of a 4-D weight are centred; channels are a prefix.
                    let start = if want.len() == 4 && d >= 2 {
                        (h - w) / 2
                    } else {
                        0
                    };
                    slice = slice.narrow(d as i64, start, w);
                }
            }
            tch::no_grad(|| target.copy_(&slice.to_device(device)));
        }
        Ok(())
    }

    /// Runs the child.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let aux = AuxSlot::default();
        guarded_forward(|| {
            self.net.forward(
                &self.standardized(xs),
                &Ctx::new(train, &self.no_settings, &aux),
            )
        })
    }

    /// Runs the child in training mode with drop-path probability `drop_path`;
    /// returns the logits and, for a network with an auxiliary head, its logits.
    pub fn forward_train(&self, xs: &Tensor, drop_path: f64) -> Result<(Tensor, Option<Tensor>)> {
        let aux = AuxSlot::default();
        let logits = guarded_forward(|| {
            self.net.forward(
                &self.standardized(xs),
                &Ctx::new(true, &self.no_settings, &aux).dropping_paths(drop_path),
            )
        })?;
        Ok((logits, aux.into_inner()))
    }

    /// Every convolution one training-mode forward pass of `xs` runs (for comparing a
    /// training step with libtorch alone on the same convolutions).
    pub fn conv_calls(&self, xs: &Tensor) -> Result<Vec<ConvCall>> {
        conv_calls(&self.net, &self.standardized(xs), &self.no_settings)
    }

    /// The number of trainable parameters.
    pub fn params(&self) -> u64 {
        self.vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as u64)
            .sum()
    }

    /// Multiply-accumulates of convolutions, linear layers, recurrent and attention
    /// layers for one image of shape `[c, h, w]` (evaluation mode).
    pub fn flops(&self, input: [i64; 3]) -> u64 {
        self.flops_for(&Tensor::zeros(
            [1, input[0], input[1], input[2]],
            (tch::Kind::Float, self.vs.device()),
        ))
    }

    /// Multiply-accumulates for one example given as a batch of one (e.g. `[1, L]`
    /// token ids for a text space).
    pub fn flops_for(&self, example: &Tensor) -> u64 {
        let counter = Cell::new(0);
        let xs = example.to_device(self.vs.device());
        let aux = AuxSlot::default();
        let _logits = tch::no_grad(|| {
            self.net.forward(
                &xs,
                &Ctx::new(false, &self.no_settings, &aux).counting(&counter),
            )
        });
        counter.get()
    }
}
