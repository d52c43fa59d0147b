//! `--dataset` / `--data-dir` of `archon train`: loading the train and test splits
//! and what the space must be built for (channels, size, classes, vocabulary).

use crate::cli::TrainArgs;
use anyhow::{bail, Context, Result};
use archon_spaces::data::{
    Cifar, Dataset, FashionMnist, ImageFolder, Split, TextTask, Vocab, DEFAULT_DIR,
    FORTUNES_CLASSES, FORTUNES_DIR,
};
use std::path::{Path, PathBuf};

/// The datasets `archon train` reads.
pub const DATASETS: &str = "fashion-mnist, mnist, cifar10, cifar100, folder, fortunes, tsv";

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

fn needs_dir(args: &TrainArgs) -> Result<&Path> {
    args.data_dir.as_deref().with_context(|| {
        format!(
            "--dataset {} needs --data-dir (the folder or file to read)",
            args.dataset
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

fn text(task: TextTask, args: &TrainArgs, name: &str) -> Loaded {
    let (train_task, test_task) = task.split(0.2, args.seed);
    let vocab = Vocab::build(&train_task.texts, 2, 20_000);
    Loaded {
        train: vocab.dataset(&train_task, args.max_len),
        test: vocab.dataset(&test_task, args.max_len),
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

/// Loads `--dataset` (with `--data-dir`), repeating grayscale images to
/// `--channels`.
pub fn load(args: &TrainArgs) -> Result<Loaded> {
    let mut loaded = load_raw(args)?;
    if let Some(c) = args.channels {
        for set in [&mut loaded.train, &mut loaded.test] {
            repeat_channels(set, loaded.channels, c, &args.dataset)?;
        }
        loaded.channels = c;
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

fn load_raw(args: &TrainArgs) -> Result<Loaded> {
    Ok(match args.dataset.as_str() {
        "fashion-mnist" | "mnist" => {
            let dir: PathBuf = match (&args.data_dir, args.dataset.as_str()) {
                (Some(d), _) => d.clone(),
                (None, "fashion-mnist") => DEFAULT_DIR.into(),
                (None, _) => needs_dir(args)?.to_path_buf(),
            };
            let train = FashionMnist::load(Some(&dir), Split::Train)?.into_dataset();
            let test = FashionMnist::load(Some(&dir), Split::Test)?.into_dataset();
            images(
                train,
                test,
                10,
                format!("{} from {}", args.dataset, dir.display()),
            )
        }
        "cifar10" | "cifar100" => {
            let kind = if args.dataset == "cifar10" {
                Cifar::Ten
            } else {
                Cifar::Hundred
            };
            let dir = needs_dir(args)?;
            images(
                kind.load(dir, Split::Train)?,
                kind.load(dir, Split::Test)?,
                kind.classes(),
                format!("{} from {}", args.dataset, dir.display()),
            )
        }
        "folder" => {
            let dir = needs_dir(args)?;
            let folder = ImageFolder::load(dir, args.image_size, 3)?;
            let (train, test) = folder.data.split(0.8, args.seed);
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
            let dir = args.data_dir.clone().unwrap_or_else(|| FORTUNES_DIR.into());
            text(
                TextTask::fortunes(&dir, &FORTUNES_CLASSES)?,
                args,
                "fortunes",
            )
        }
        "tsv" => text(TextTask::from_tsv(needs_dir(args)?)?, args, "tsv"),
        other => bail!("--dataset {other:?}: unknown (known: {DATASETS})"),
    })
}
