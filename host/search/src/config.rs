//! The one-shot search config (TOML). Every field is documented in docs/config-reference.md (`archon config reference`)
//! ("Search config"); unknown keys and bad values are errors naming the key.

use anyhow::{bail, Context, Result};
use archon_core::spec::{
    resolve_relative, DataSpec, RecipeSpec, SpaceSection, SpaceSpec, TrainSpec,
};
use archon_plugin_api::one_shot::Limits;
use archon_spaces::train::Recipe;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The data searched on.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// As `archon train --dataset`.
    #[serde(default = "default_dataset")]
    pub dataset: String,
    /// The data folder or file (relative to the config file).
    pub data_dir: Option<PathBuf>,
    /// Examples taken from the training split (a seeded subset), divided into the
    /// weight-training and architecture-validation splits.
    pub train_subset: Option<usize>,
    /// Test examples for the retrained child.
    pub test_subset: Option<usize>,
    /// Fraction of `train_subset` used to train architecture parameters (DARTS: 0.5).
    #[serde(default = "half")]
    pub arch_fraction: f64,
    /// Repeat grayscale images to this many channels (e.g. 3, as NNI's benchmarks do).
    pub channels: Option<i64>,
    /// Zero-pad images to this size (e.g. Fashion-MNIST's 28×28 to CIFAR's 32×32).
    pub pad_to: Option<i64>,
}

/// The algorithm and its budget.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchSection {
    /// The one-shot plugin (`archon plugins list`).
    pub algorithm: String,
    /// Search epochs.
    #[serde(default = "one")]
    pub epochs: usize,
    /// Examples per batch (both splits).
    #[serde(default = "default_batch")]
    pub batch_size: i64,
    /// `cpu`, `cuda`, `cuda:N` or `auto`.
    #[serde(default = "default_device")]
    pub device: String,
    /// Stop each epoch after this many steps (none: the whole weight split).
    pub steps_per_epoch: Option<usize>,
    /// Replicas a training pass's batch is split across, each on its own thread with
    /// single-threaded operations (data parallelism on CPU; batch norm then normalises
    /// each part by its own statistics). None: one per intra-op thread on CPU, with at
    /// least 16 examples each; 1 on a GPU. 1 turns it off.
    pub replicas: Option<usize>,
    /// The plugin's options.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub options: toml::Table,
}

/// The host's weight optimizer (SGD with momentum, cosine schedule; DARTS defaults).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsSection {
    /// Initial learning rate.
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Final learning rate of the cosine schedule.
    #[serde(default = "default_lr_min")]
    pub lr_min: f64,
    /// SGD momentum.
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    /// L2 weight decay.
    #[serde(default = "default_wd")]
    pub weight_decay: f64,
    /// Gradient-norm clip (0: off).
    #[serde(default = "default_clip")]
    pub grad_clip: f64,
    /// The supernet's weights outside every layer choice's candidates (stem, fixed
    /// blocks, classifier) learn at `lr × shared_lr_scale`; the candidates' at `lr`.
    #[serde(default = "one_f64")]
    pub shared_lr_scale: f64,
}

impl Default for WeightsSection {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

/// Retraining the found architecture from scratch.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrainSection {
    /// Epochs.
    #[serde(default = "one")]
    pub epochs: usize,
    /// Learning rate.
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Batch size.
    #[serde(default = "default_batch")]
    pub batch_size: i64,
    /// Training examples (default: the search's `train_subset`).
    pub train_subset: Option<usize>,
    /// Training examples held out as a validation split (epochs report its accuracy;
    /// the test set is evaluated once, at the end; 0: none).
    #[serde(default)]
    pub holdout: usize,
    /// The recipe: `"classic"` (SGD, cosine per epoch, weight decay 3e-4: the
    /// ground-truth tables' recipe) or `"final"` (Nesterov, per-step cosine after a
    /// warm-up epoch, weight decay 5e-4, label smoothing 0.1, random erasing 0.25,
    /// inputs standardised inside the network), or a table `{ preset = "final", … }`
    /// overriding any of `optimizer` (`sgd`, `nesterov`, `adamw`), `weight_decay`,
    /// `warmup_epochs`, `per_step_schedule`, `label_smoothing`, `erasing`,
    /// `ema_decay`, `standardize`. Default: classic.
    #[schemars(with = "Option<serde_json::Value>")]
    pub recipe: Option<toml::Value>,
    /// Cutout side in pixels (0: off).
    #[serde(default)]
    pub cutout: i64,
    /// Drop-path probability reached at the last epoch (cell spaces; 0: off).
    #[serde(default)]
    pub drop_path: f64,
    /// Space options that differ from the search's (e.g. more cells or width).
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub options: toml::Table,
}

impl Default for RetrainSection {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

/// A whole search config.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// A name for listings.
    pub name: Option<String>,
    /// Seed for data splits, weights and the algorithm (unless its options set one).
    #[serde(default)]
    pub seed: u64,
    /// The space (a built-in space of the hub).
    pub space: SpaceSection,
    /// The data.
    #[serde(default = "default_data")]
    pub data: DataSection,
    /// The algorithm.
    pub search: SearchSection,
    /// The weight optimizer.
    #[serde(default)]
    pub weights: WeightsSection,
    /// Retraining (run with `--retrain`).
    #[serde(default)]
    pub retrain: RetrainSection,
    /// What the exported network may cost at most (`max_params`, `max_flops`,
    /// `max_latency_ms`).
    #[serde(default)]
    pub limits: Limits,
}

fn one() -> usize {
    1
}
fn half() -> f64 {
    0.5
}
fn default_dataset() -> String {
    "fashion-mnist".into()
}
fn default_data() -> DataSection {
    toml::from_str("").expect("every field has a default")
}
fn default_batch() -> i64 {
    64
}
fn default_device() -> String {
    "auto".into()
}
fn default_lr() -> f64 {
    0.025
}
fn default_lr_min() -> f64 {
    0.001
}
fn default_momentum() -> f64 {
    0.9
}
fn default_wd() -> f64 {
    3e-4
}
fn one_f64() -> f64 {
    1.0
}
fn default_clip() -> f64 {
    5.0
}

impl SearchConfig {
    /// Whether config text is a one-shot search config (it has a `[search]` table).
    pub fn is_search(text: &str) -> bool {
        toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("search"))
    }

    /// Parses and validates config text; `path` is for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let cfg: SearchConfig =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let bad = |key: &str, what: String| anyhow::anyhow!("{}: {key}: {what}", path.display());
        if let Some(problem) = cfg
            .name
            .as_deref()
            .and_then(archon_core::spec::name::problem)
        {
            return Err(bad("name", problem));
        }
        if cfg.space.builtin.is_none() {
            return Err(bad(
                "space.builtin",
                "missing: one-shot search needs a built-in space (see `archon space list`)".into(),
            ));
        }
        if cfg.space.file.is_some() || cfg.space.json.is_some() {
            return Err(bad(
                if cfg.space.file.is_some() {
                    "space.file"
                } else {
                    "space.json"
                },
                "one-shot search builds a supernet, which needs a built-in space, not a JSON file"
                    .into(),
            ));
        }
        if cfg.search.epochs == 0 {
            bail!(bad("search.epochs", "must be at least 1".into()));
        }
        if cfg.search.replicas == Some(0) {
            bail!(bad(
                "search.replicas",
                "0: use 1 to turn data parallelism off, or leave the key out for one per core"
                    .into()
            ));
        }
        if cfg.search.batch_size < 1 {
            bail!(bad(
                "search.batch_size",
                format!("{} must be at least 1", cfg.search.batch_size)
            ));
        }
        if !(cfg.data.arch_fraction > 0.0 && cfg.data.arch_fraction < 1.0) {
            bail!(bad(
                "data.arch_fraction",
                format!("{} must be between 0 and 1", cfg.data.arch_fraction)
            ));
        }
        let w = &cfg.weights;
        for (key, value) in [
            ("weights.lr", w.lr),
            ("weights.lr_min", w.lr_min),
            ("weights.momentum", w.momentum),
            ("weights.weight_decay", w.weight_decay),
            ("weights.grad_clip", w.grad_clip),
        ] {
            if !(value >= 0.0 && value.is_finite()) {
                bail!(bad(key, format!("{value} must be a finite number ≥ 0")));
            }
        }
        if !(w.shared_lr_scale > 0.0 && w.shared_lr_scale.is_finite()) {
            bail!(bad(
                "weights.shared_lr_scale",
                format!("{} must be a finite number > 0", w.shared_lr_scale)
            ));
        }
        if cfg.data.channels.is_some_and(|c| !(1..=4).contains(&c)) {
            bail!(bad("data.channels", "must be between 1 and 4".into()));
        }
        archon_core::spec::limits::check(&cfg.limits).map_err(|(key, what)| bad(&key, what))?;
        // Every [retrain] value (and the recipe) through the one training check.
        cfg.retrain_spec(Path::new("."), "{}".into())
            .and_then(|spec| spec.check(|k| format!("retrain.{k}")))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(cfg)
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the search config {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// The data searched on (from the folder `config_dir`). Channels are not repeated
    /// here: the search repeats them after taking its subset.
    pub fn data_spec(&self, config_dir: &Path) -> DataSpec {
        DataSpec {
            dataset: self.data.dataset.clone(),
            data_dir: self
                .data
                .data_dir
                .as_ref()
                .map(|d| resolve_relative(config_dir, d)),
            seed: self.seed,
            pad_to: self.data.pad_to,
            ..DataSpec::default()
        }
    }

    /// The space the supernet is built from.
    pub fn space_spec(&self) -> Result<SpaceSpec> {
        SpaceSpec::from_toml(&self.space.options)
    }

    /// The retraining's recipe (`[retrain] recipe`; classic when absent).
    pub fn retrain_recipe(&self) -> Result<Recipe> {
        match &self.retrain.recipe {
            None => Ok(Recipe::classic()),
            Some(value) => {
                RecipeSpec::from_toml(value, "retrain.recipe")?.resolve("retrain.recipe.")
            }
        }
    }

    /// Retraining `arch` (NNI JSON text) from scratch as `[retrain]` says, with the
    /// search's space options overridden by the retraining's.
    pub fn retrain_spec(&self, config_dir: &Path, arch: String) -> Result<TrainSpec> {
        let mut options = self.space.options.clone();
        options.extend(self.retrain.options.clone());
        Ok(TrainSpec {
            space: self.space.builtin.clone().unwrap_or_default(),
            arch,
            space_spec: SpaceSpec::from_toml(&options)?,
            data: DataSpec {
                channels: self.data.channels,
                ..self.data_spec(config_dir)
            },
            epochs: self.retrain.epochs,
            batch_size: self.retrain.batch_size,
            lr: self.retrain.lr,
            recipe: self.retrain_recipe()?,
            holdout: self.retrain.holdout,
            cutout: self.retrain.cutout,
            drop_path: self.retrain.drop_path,
            train_subset: self.retrain.train_subset.or(self.data.train_subset),
            test_subset: self.data.test_subset,
            device: self.search.device.clone(),
            seed: self.seed,
            ..TrainSpec::default()
        })
    }

    /// The algorithm's options as JSON, with the seed unless they set one.
    pub fn algorithm_options(&self) -> Result<String> {
        let mut options = serde_json::to_value(&self.search.options)?;
        options
            .as_object_mut()
            .context("search.options must be a table")?
            .entry("seed")
            .or_insert_with(|| self.seed.into());
        Ok(options.to_string())
    }
}
