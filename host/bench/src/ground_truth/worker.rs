//! A ground-truth worker: one process that loads the data once, then trains the
//! architectures it is sent, one at a time, on a fixed number of threads. The
//! protocol is JSON Lines: first a [`Setup`], then [`Job`]s on standard input; a
//! [`Row`] (or `{"error": ...}`) per job on standard output.

use super::table::{Budget, EpochRow, Row};
use anyhow::{bail, Context, Result};
use archon_core::{
    plugins::SearchPath,
    spec::{data, DataSpec, SpaceSpec},
};
use archon_plugin_api::tch;
use archon_spaces::{
    data::Dataset,
    hub::{self, SpaceConfig},
    parse_device,
    train::{train_and_evaluate, Augment, TrainConfig},
    Child,
};
use serde::{Deserialize, Serialize};
use std::{
    io::{BufRead, Write},
    time::Instant,
};

/// What every job of a worker shares.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    /// The hub space.
    pub space: String,
    /// Its options.
    pub options: serde_json::Map<String, serde_json::Value>,
    /// How to train.
    pub budget: Budget,
    /// Where the data is (default: the dataset's Debian folder).
    pub data_dir: Option<std::path::PathBuf>,
    /// Threads of this worker's libtorch.
    pub threads: i32,
    /// cpu, cuda, cuda:N or auto.
    pub device: String,
}

/// One training.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// The architecture's key.
    pub key: String,
    /// The architecture (NNI format).
    pub arch: serde_json::Value,
    /// The training seed.
    pub seed: u64,
    /// Whether it is made of parameter-free operations only.
    pub param_free: bool,
}

/// The training, validation and test sets of a budget: disjoint training and
/// validation subsets of the training split, a subset of the test split, all drawn
/// with the budget's data seed. Also the space's configuration for the data.
pub struct BudgetData {
    /// The space, configured for the data.
    pub cfg: SpaceConfig,
    /// Training examples.
    pub train: Dataset,
    /// Validation examples.
    pub valid: Dataset,
    /// Test examples.
    pub test: Dataset,
}

impl BudgetData {
    /// Loads the data of `budget` and configures `space` with `options` for it.
    pub fn load(
        space: &str,
        options: &serde_json::Map<String, serde_json::Value>,
        budget: &Budget,
        data_dir: Option<&std::path::Path>,
        search_path: &SearchPath,
    ) -> Result<BudgetData> {
        let spec = DataSpec {
            dataset: budget.dataset.clone(),
            data_dir: data_dir.map(Into::into),
            ..DataSpec::default()
        };
        let loaded = data::load(&spec)?;
        let n = loaded.train.len();
        let (t, v) = (budget.train_subset, budget.valid_subset);
        if t == 0 || t + v > n {
            bail!(
                "--train-subset {t} + --valid-subset {v}: the training split of {} has {n} \
                 examples (both come from it, disjoint); ask for at most {n} together",
                budget.dataset
            );
        }
        let order = archon_spaces::data::permutation(n, budget.data_seed);
        let train = loaded.train.select(&order.narrow(0, 0, t as i64));
        let valid = loaded.train.select(&order.narrow(0, t as i64, v as i64));
        let test = loaded
            .test
            .subset(budget.test_subset, budget.data_seed.wrapping_add(1));
        let mut cfg = SpaceSpec {
            options: options.clone(),
            ..SpaceSpec::default()
        }
        .config(search_path)?;
        loaded.shape(&mut cfg);
        hub::space(space)?;
        Ok(BudgetData {
            cfg,
            train,
            valid,
            test,
        })
    }
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Trains `job`'s architecture from scratch under `budget` and returns its row.
pub fn train_one(
    space: &str,
    data: &BudgetData,
    budget: &Budget,
    device: tch::Device,
    job: &Job,
) -> Result<Row> {
    let family = hub::space(space)?;
    let start = Instant::now();
    tch::manual_seed(job.seed as i64);
    let mut child = Child::build(family, &data.cfg, &job.arch, device)
        .with_context(|| format!("building {}", job.key))?;
    let flops = child.flops_for(&data.train.inputs.narrow(0, 0, 1));
    let tc = TrainConfig {
        epochs: budget.epochs,
        batch_size: budget.batch_size,
        lr: budget.lr,
        seed: job.seed,
        augment: if budget.augment {
            Augment::default()
        } else {
            Augment {
                crop_padding: 0,
                flip: false,
                cutout: 0,
                erasing: 0.0,
            }
        },
        ..TrainConfig::default()
    };
    let reports = train_and_evaluate(
        &mut child,
        &data.train,
        &data.valid,
        &[&data.test],
        &tc,
        &mut |_| {},
    )
    .with_context(|| format!("training {}", job.key))?;
    Ok(Row {
        key: job.key.clone(),
        arch: job.arch.clone(),
        seed: job.seed,
        params: child.params(),
        flops,
        param_free: job.param_free,
        epochs: reports
            .iter()
            .map(|r| EpochRow {
                loss: round4(r.train_loss),
                valid: round4(r.valid_accuracy),
                test: round4(r.other_accuracies[0]),
            })
            .collect(),
        seconds: (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    })
}

/// Serves jobs from standard input until it closes (`archon bench ground-truth-worker`).
pub fn serve(search_path: &SearchPath) -> Result<()> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let setup: Setup = match lines.next() {
        Some(line) => {
            serde_json::from_str(&line?).context("ground-truth worker: bad setup line")?
        }
        None => return Ok(()),
    };
    tch::set_num_threads(setup.threads.max(1));
    let device = parse_device(&setup.device)?;
    let data = BudgetData::load(
        &setup.space,
        &setup.options,
        &setup.budget,
        setup.data_dir.as_deref(),
        search_path,
    )?;
    let mut out = std::io::stdout().lock();
    for line in lines {
        let job: Job = serde_json::from_str(&line?).context("ground-truth worker: bad job line")?;
        let reply = match train_one(&setup.space, &data, &setup.budget, device, &job) {
            Ok(row) => serde_json::to_string(&row)?,
            Err(e) => serde_json::json!({ "error": format!("{e:#}") }).to_string(),
        };
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    Ok(())
}
