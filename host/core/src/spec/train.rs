//! Training one child from scratch ([`TrainSpec`]): which architecture of which space,
//! on which data, for how long. `archon train`, the built-in trial and a search's
//! retraining all fill one of these.

use super::{DataSpec, SpaceSpec};
use archon_spaces::train::Recipe;
use std::path::PathBuf;

/// A child to train and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSpec {
    /// The space the architecture belongs to.
    pub space: String,
    /// The architecture: a JSON file, inline JSON (NNI parameters), or for
    /// nas-bench-201 an arch string.
    pub arch: String,
    /// The space's options (its shape comes from the data).
    pub space_spec: SpaceSpec,
    /// The data.
    pub data: DataSpec,
    /// Epochs (the length of the learning-rate schedule).
    pub epochs: usize,
    /// The first epoch to run: a run continued from weights saved after epoch
    /// `start_epoch` (`load`) goes on with the schedule where it was.
    pub start_epoch: usize,
    /// Stop before this epoch (none: `epochs`): a multi-fidelity budget is the first
    /// epochs of the schedule.
    pub stop_epoch: Option<usize>,
    /// The sum of the training losses of the epochs before `start_epoch` (a continued
    /// run's `tse` goes on from it).
    pub train_loss_before: f64,
    /// Batch size.
    pub batch_size: i64,
    /// Initial learning rate (cosine-annealed to 0).
    pub lr: f64,
    /// Cutout side in pixels (0: off).
    pub cutout: i64,
    /// Drop-path probability reached at the last epoch (cell spaces; 0: off).
    pub drop_path: f64,
    /// Weight of the auxiliary head's loss.
    pub aux_weight: f64,
    /// Optimizer, schedule shape, weight decay, label smoothing, erasing, weight
    /// average, input standardisation.
    pub recipe: Recipe,
    /// Hold this many training examples out as a validation split: epochs report
    /// validation accuracy and the test set is evaluated once, at the end (0: none;
    /// epochs then report test accuracy, as classic trials do).
    pub holdout: usize,
    /// Train on this many training examples (a seeded subset; none: all).
    pub train_subset: Option<usize>,
    /// Test on this many test examples (none: all).
    pub test_subset: Option<usize>,
    /// cpu, cuda, cuda:N or auto.
    pub device: String,
    /// Seed for initialisation, shuffling and augmentation.
    pub seed: u64,
    /// Save the trained weights here (safetensors).
    pub save: Option<PathBuf>,
    /// Start from these weights (safetensors, as `save` writes them) instead of a
    /// fresh initialisation.
    pub load: Option<PathBuf>,
    /// Export the trained child (format and file).
    pub export: Option<Export>,
    /// Also print each epoch's test accuracy as an `ARCHON_METRIC` line (the trial
    /// protocol), the last one final.
    pub report_metrics: bool,
    /// A run's time budget: `epochs` becomes the most that fit into what is left of
    /// it, measured on this machine before training (at most `epochs`).
    pub time_budget: Option<crate::budget::Budget>,
}

impl Default for TrainSpec {
    fn default() -> Self {
        TrainSpec {
            space: String::new(),
            arch: String::new(),
            space_spec: SpaceSpec::default(),
            data: DataSpec::default(),
            epochs: 1,
            start_epoch: 0,
            stop_epoch: None,
            train_loss_before: 0.0,
            batch_size: 64,
            lr: 0.025,
            cutout: 0,
            drop_path: 0.0,
            aux_weight: 0.4,
            recipe: Recipe::classic(),
            holdout: 0,
            train_subset: None,
            test_subset: None,
            device: "auto".into(),
            seed: 0,
            save: None,
            load: None,
            export: None,
            report_metrics: false,
            time_budget: None,
        }
    }
}

impl TrainSpec {
    /// The first value out of range, as `(key, problem)` with config-style keys
    /// (`lr`, `train_subset`, …); see [`Self::check`].
    pub fn invalid(&self) -> Option<(&'static str, String)> {
        if self.epochs == 0 && self.load.is_none() {
            return Some((
                "epochs",
                "0 trains nothing; give at least 1 (0 only evaluates weights given with --load)"
                    .into(),
            ));
        }
        if self.batch_size < 1 {
            return Some((
                "batch_size",
                format!("{} must be at least 1", self.batch_size),
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Some(("lr", format!("{} must be a finite number > 0", self.lr)));
        }
        if self.cutout < 0 {
            return Some(("cutout", format!("{} must be ≥ 0", self.cutout)));
        }
        if !(0.0..1.0).contains(&self.drop_path) {
            return Some(("drop_path", format!("{} must be in [0, 1)", self.drop_path)));
        }
        if !(self.aux_weight >= 0.0 && self.aux_weight.is_finite()) {
            return Some((
                "aux_weight",
                format!("{} must be a finite number ≥ 0", self.aux_weight),
            ));
        }
        for (key, value) in [
            ("train_subset", self.train_subset),
            ("test_subset", self.test_subset),
        ] {
            if value == Some(0) {
                return Some((
                    key,
                    "0 examples: give at least 1 (or leave it out for all)".into(),
                ));
            }
        }
        if let Some(load) = &self.load {
            if !load.is_file() {
                return Some(("load", format!("{}: no such file", load.display())));
            }
        }
        for (key, path) in [
            ("save", self.save.as_deref()),
            ("export_to", self.export.as_ref().map(|e| e.path.as_path())),
        ] {
            if let Some(why) = path.and_then(super::output::unwritable) {
                return Some((key, why));
            }
        }
        // The recipe is checked where it is resolved (`RecipeSpec::resolve`), with
        // its own keys.
        None
    }

    /// Fails on the first value out of range, naming it as `key(name)` does (e.g.
    /// `--train-subset` or `retrain.train_subset`).
    pub fn check(&self, key: impl Fn(&str) -> String) -> anyhow::Result<()> {
        match self.invalid() {
            Some((name, problem)) => anyhow::bail!("{}: {problem}", key(name)),
            None => Ok(()),
        }
    }
}

/// The flag for a config-style key: `train_subset` → `--train-subset`.
pub fn flag(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

/// Formats a trained child can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// A TorchScript module (traced, evaluation mode) for `torch.jit.load`.
    Torchscript,
    /// An ONNX model (converted from that module) for ONNX runtimes.
    Onnx,
    /// archon's native pair: the weights (safetensors, for `archon train --load`) and,
    /// in `FILE.json`, the architecture.
    Safetensors,
}

impl ExportFormat {
    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Torchscript => "torchscript",
            ExportFormat::Onnx => "onnx",
            ExportFormat::Safetensors => "safetensors",
        }
    }

    /// The usual file name.
    pub fn default_file(self) -> &'static str {
        match self {
            ExportFormat::Torchscript => "model.pt",
            ExportFormat::Onnx => "model.onnx",
            ExportFormat::Safetensors => "model.safetensors",
        }
    }
}

/// Where and how to export a trained child.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The format.
    pub format: ExportFormat,
    /// The file.
    pub path: PathBuf,
}
