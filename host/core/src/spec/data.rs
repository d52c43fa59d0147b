//! The data a child or a supernet trains on ([`DataSpec`]): loading the train and
//! test splits and what the space must be built for (channels, size, classes,
//! vocabulary). Messages name the `archon train` flags, which the config keys mirror.

use anyhow::{bail, Context, Result};
use archon_spaces::data::{
    Cifar, Dataset, FashionMnist, ImageFolder, Split, TextTask, Vocab, DEFAULT_DIR,
    FORTUNES_CLASSES, FORTUNES_DIR,
};
use std::path::{Path, PathBuf};

/// The datasets `archon train` reads.
pub const DATASETS: &str = "fashion-mnist, mnist, cifar10, cifar100, folder, fortunes, tsv";

/// Which data to load and how.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSpec {
    /// fashion-mnist, mnist, cifar10, cifar100, folder, fortunes or tsv.
    pub dataset: String,
    /// Where the data is (a folder; the file for tsv).
    pub data_dir: Option<PathBuf>,
    /// Images of a `folder` dataset are resized to this size.
    pub image_size: u32,
    /// Texts are cut or padded to this many tokens.
    pub max_len: usize,
    /// Repeat grayscale images to this many channels.
    pub channels: Option<i64>,
    /// Zero-pad images (centered) to this height and width, e.g. 28×28 to 32×32.
    pub pad_to: Option<i64>,
    /// Seed of the train/test split of `folder` and text datasets.
    pub seed: u64,
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            dataset: "fashion-mnist".into(),
            data_dir: None,
            image_size: 32,
            max_len: 64,
            channels: None,
            pad_to: None,
            seed: 0,
        }
    }
}

/// Loaded data and the shape a space must be built for.
pub struct Loaded {
    /// Training split.
    pub train: Dataset,
    /// Test split.
    pub test: Dataset,
    /// Image channels (0 for text).
    pub channels: i64,
    /// Image size (0 for text).
    pub image_size: i64,
    /// Classes.
    pub classes: i64,
    /// Vocabulary size (0 for images).
    pub vocab: i64,
    /// A one-line description.
    pub summary: String,
}

impl Loaded {
    /// Sets `cfg`'s input shape, classes and vocabulary to this data's.
    pub fn shape(&self, cfg: &mut archon_spaces::hub::SpaceConfig) {
        (
            cfg.input_channels,
            cfg.image_size,
            cfg.num_classes,
            cfg.vocab_size,
        ) = (self.channels, self.image_size, self.classes, self.vocab);
    }
}

fn needs_dir(spec: &DataSpec) -> Result<&Path> {
    spec.data_dir.as_deref().with_context(|| {
        format!(
            "--dataset {} needs --data-dir (the folder or file to read)",
            spec.dataset
        )
    })
}

fn images(train: Dataset, test: Dataset, classes: i64, summary: String) -> Loaded {
    let size = train.inputs.size();
    Loaded {
        channels: size[1],
        image_size: size[2],
        classes,
        vocab: 0,
        summary,
        train,
        test,
    }
}

fn text(task: TextTask, spec: &DataSpec, name: &str) -> Loaded {
    let (train_task, test_task) = task.split(0.2, spec.seed);
    let vocab = Vocab::build(&train_task.texts, 2, 20_000);
    Loaded {
        train: vocab.dataset(&train_task, spec.max_len),
        test: vocab.dataset(&test_task, spec.max_len),
        channels: 0,
        image_size: 0,
        classes: task.classes.len() as i64,
        vocab: vocab.len() as i64,
        summary: format!(
            "{name}: {} classes, vocabulary {}, majority class {:.1} %",
            task.classes.len(),
            vocab.len(),
            100.0 * test_task.majority_fraction()
        ),
    }
}

/// Loads the dataset (from `data_dir`), repeating grayscale images to `channels`.
pub fn load(spec: &DataSpec) -> Result<Loaded> {
    let mut loaded = load_raw(spec)?;
    if let Some(c) = spec.channels {
        for set in [&mut loaded.train, &mut loaded.test] {
            repeat_channels(set, loaded.channels, c, &spec.dataset)?;
        }
        loaded.channels = c;
    }
    if let Some(size) = spec.pad_to {
        let from = loaded.image_size;
        if loaded.channels == 0 || size < from {
            bail!(
                "pad_to {size}: only images can be padded, to at least their size ({} is {from}×{from})",
                spec.dataset
            );
        }
        let (before, after) = ((size - from) / 2, size - from - (size - from) / 2);
        for set in [&mut loaded.train, &mut loaded.test] {
            set.inputs = set.inputs.constant_pad_nd([before, after, before, after]);
        }
        loaded.image_size = size;
    }
    Ok(loaded)
}

/// Repeats the one channel of grayscale images `c` times.
pub fn repeat_channels(set: &mut Dataset, channels: i64, c: i64, dataset: &str) -> Result<()> {
    if channels != 1 || c < 1 {
        bail!(
            "channels {c}: only grayscale images can be repeated to more channels ({dataset} has {channels})"
        );
    }
    set.inputs = set.inputs.repeat([1, c, 1, 1]);
    Ok(())
}

fn load_raw(spec: &DataSpec) -> Result<Loaded> {
    Ok(match spec.dataset.as_str() {
        "fashion-mnist" | "mnist" => {
            let dir: PathBuf = match (&spec.data_dir, spec.dataset.as_str()) {
                (Some(d), _) => d.clone(),
                (None, "fashion-mnist") => DEFAULT_DIR.into(),
                (None, _) => needs_dir(spec)?.to_path_buf(),
            };
            let train = FashionMnist::load(Some(&dir), Split::Train)?.into_dataset();
            let test = FashionMnist::load(Some(&dir), Split::Test)?.into_dataset();
            images(
                train,
                test,
                10,
                format!("{} from {}", spec.dataset, dir.display()),
            )
        }
        "cifar10" | "cifar100" => {
            let kind = if spec.dataset == "cifar10" {
                Cifar::Ten
            } else {
                Cifar::Hundred
            };
            let dir = needs_dir(spec)?;
            images(
                kind.load(dir, Split::Train)?,
                kind.load(dir, Split::Test)?,
                kind.classes(),
                format!("{} from {}", spec.dataset, dir.display()),
            )
        }
        "folder" => {
            let dir = needs_dir(spec)?;
            let folder = ImageFolder::load(dir, spec.image_size, 3)?;
            let (train, test) = folder.data.split(0.8, spec.seed);
            let classes = folder.classes.len() as i64;
            images(
                train,
                test,
                classes,
                format!(
                    "image folder {} ({} classes, 80/20 split)",
                    dir.display(),
                    classes
                ),
            )
        }
        "fortunes" => {
            let dir = spec.data_dir.clone().unwrap_or_else(|| FORTUNES_DIR.into());
            text(
                TextTask::fortunes(&dir, &FORTUNES_CLASSES)?,
                spec,
                "fortunes",
            )
        }
        "tsv" => text(TextTask::from_tsv(needs_dir(spec)?)?, spec, "tsv"),
        other => bail!("--dataset {other:?}: unknown (known: {DATASETS})"),
    })
}
