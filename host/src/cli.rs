//! Command-line arguments (clap). `commands` turns them into the library's specs
//! ([`archon_core::spec`]), whose `Default`s are the flags' defaults.

use archon_bench::BenchCommand;
use archon_core::{
    args::{RunsDir, SpaceArgs},
    spec::{DataSpec, ExportFormat, TrainSpec},
};
use clap::{Args as ClapArgs, Parser, Subcommand};
use std::path::PathBuf;

/// archon — neural architecture search with every algorithm as a run-time plugin.
#[derive(Debug, Parser)]
#[command(name = "archon", version, about, long_about = None)]
pub struct Args {
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also look for plugins in this folder (repeatable; searched first).
    #[arg(long = "plugin-dir", value_name = "DIR", global = true)]
    pub plugin_dirs: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, inspect and check plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Drive a tuner plugin through a toy search space end to end.
    Demo(DemoArgs),
    /// The hub of search spaces: list, show, generate NNI-format JSON.
    #[command(subcommand)]
    Space(SpaceCommand),
    /// Train a fixed architecture of a space on a dataset and report its accuracy.
    Train(Box<TrainArgs>),
    /// Classic (multi-trial) NAS experiments.
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// One-shot NAS: search a supernet with a one-shot plugin (DARTS, GDAS, ...),
    /// export the architecture, optionally retrain it.
    Search(SearchArgs),
    /// Export a finished search's retrained child (`archon search --retrain`) for use
    /// outside archon; for any architecture + weights, `archon train --load W
    /// --epochs 0 --export FORMAT`.
    Export(ExportArgs),
    /// Zero-cost proxies (params, flops, grad_norm, snip, synflow, jacob_cov, naswot, fisher) of
    /// untrained architectures; with --table, each proxy's rank agreement with the
    /// table's stand-alone accuracy.
    Score(Box<ScoreArgs>),
    /// A web UI over the experiments of a runs folder (read-only, loopback by default).
    View(ViewArgs),
    /// An experiment's key plots as SVG files.
    Report(ReportArgs),
    /// Benchmarks (speed and memory), see docs/results.md "Benchmarks".
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The built-in trial: trains the architecture in ARCHON_PARAMETERS as the
    /// experiment in ARCHON_EXPERIMENT_DIR configures (run by the manager).
    #[command(hide = true)]
    Trial,
    /// Show archon's versions and where it looks for plugins.
    Version,
    /// About config files: `archon config reference` prints every key with its doc
    /// and default (Markdown).
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `archon config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every key of experiment and search configs, with its doc and default, as
    /// Markdown (docs/config-reference.md is this output).
    Reference,
}

impl Command {
    /// What the command does when its output is closed: one that runs an experiment,
    /// a search, a training, a benchmark or the web UI keeps working; one that only
    /// prints ends quietly.
    pub fn on_closed_output(&self) -> crate::closed_output::Policy {
        use crate::closed_output::Policy;
        let works = match self {
            Command::Train(_)
            | Command::Search(_)
            | Command::Demo(_)
            | Command::View(_)
            | Command::Trial => true,
            Command::Experiment(cmd) => matches!(
                cmd,
                ExperimentCommand::Run { .. } | ExperimentCommand::Resume { .. }
            ),
            Command::Bench(cmd) => !matches!(cmd, BenchCommand::Table(_)),
            _ => false,
        };
        if works {
            Policy::KeepWorking
        } else {
            Policy::Quit
        }
    }
}

/// `archon plugins ...`
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Every plugin found, with its kind, version, path and whether it can be loaded.
    List,
    /// Everything a plugin says about itself (by name or by path).
    Info {
        /// A plugin name (as in `plugins list`) or a path to a plugin library.
        plugin: String,
    },
    /// Run the conformance kit on one plugin (by name or path) and print a table.
    Check {
        /// A plugin name (as in `plugins list`) or a path to a plugin library.
        plugin: String,
    },
}

/// `archon demo`
#[derive(Debug, ClapArgs)]
pub struct DemoArgs {
    /// The tuner plugin to drive.
    #[arg(long, default_value = "random")]
    pub tuner: String,
    /// How many trials to run.
    #[arg(long, default_value_t = 24)]
    pub trials: u64,
    /// Seed for the tuner.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `archon space ...`
#[derive(Debug, Subcommand)]
pub enum SpaceCommand {
    /// Every space in the hub.
    List,
    /// A space's options, choices and size.
    Show {
        /// The space's name.
        name: String,
        #[command(flatten)]
        space: SpaceArgs,
    },
    /// Write a space's NNI-format search space JSON (NNI's `ss_gen`).
    Gen {
        /// The space's name.
        name: String,
        #[command(flatten)]
        space: SpaceArgs,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Time a space's supernet (weighted and single-path) and a child, per training step.
    Bench {
        /// The space's name.
        name: String,
        #[command(flatten)]
        space: SpaceArgs,
        /// Examples per step.
        #[arg(long, default_value_t = 32)]
        batch: i64,
        /// Timed steps (after one warm-up step).
        #[arg(long, default_value_t = 5)]
        steps: usize,
        /// cpu, cuda, cuda:N or auto.
        #[arg(long, default_value = "auto")]
        device: String,
        /// The child's architecture (as `archon train --arch`; default: the one in the
        /// middle of the space).
        #[arg(long)]
        arch: Option<String>,
    },
}

/// `archon train`: the space's input shape, classes and vocabulary come from the data
/// (`--input`, `--classes` and `--vocab` are ignored).
#[derive(Debug, ClapArgs)]
pub struct TrainArgs {
    /// The space the architecture belongs to.
    #[arg(long)]
    pub space: String,
    /// The architecture: a JSON file, inline JSON (NNI parameters), or for
    /// nas-bench-201 an arch string.
    #[arg(long)]
    pub arch: String,
    #[command(flatten)]
    pub space_args: SpaceArgs,
    /// Epochs.
    #[arg(long, default_value_t = TrainSpec::default().epochs)]
    pub epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = TrainSpec::default().batch_size)]
    pub batch_size: i64,
    /// Initial learning rate (cosine-annealed to 0).
    #[arg(long, default_value_t = TrainSpec::default().lr)]
    pub lr: f64,
    /// Cutout side in pixels (0: off).
    #[arg(long, default_value_t = TrainSpec::default().cutout)]
    pub cutout: i64,
    /// Drop-path probability reached at the last epoch (cell spaces; 0: off).
    #[arg(long, default_value_t = TrainSpec::default().drop_path)]
    pub drop_path: f64,
    /// Weight of the auxiliary head's loss (cell spaces with --option auxiliary=true).
    #[arg(long, default_value_t = TrainSpec::default().aux_weight)]
    pub aux_weight: f64,
    #[command(flatten)]
    pub recipe: archon_core::spec::RecipeSpec,
    /// Hold this many training images out as a validation split: epochs report
    /// validation accuracy, the test set is evaluated once at the end.
    #[arg(long, default_value_t = 0)]
    pub holdout: usize,
    /// Train on this many training images (a seeded subset; default: all 60,000).
    #[arg(long)]
    pub train_subset: Option<usize>,
    /// Test on this many test images (default: all 10,000).
    #[arg(long)]
    pub test_subset: Option<usize>,
    /// The data: fashion-mnist, mnist, cifar10, cifar100, folder (class sub-folders
    /// of PNG/JPEG), fortunes (Debian's fortunes, 6 topics) or tsv (label<TAB>text).
    #[arg(long, default_value_t = DataSpec::default().dataset)]
    pub dataset: String,
    /// Where the data is (a folder; the file for tsv). Defaults to the Debian
    /// package's folder for fashion-mnist and fortunes.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Images of a `folder` dataset are resized to this size.
    #[arg(long, default_value_t = DataSpec::default().image_size)]
    pub image_size: u32,
    /// Texts are cut or padded to this many tokens.
    #[arg(long, default_value_t = DataSpec::default().max_len)]
    pub max_len: usize,
    /// Repeat grayscale images to this many channels (e.g. 3).
    #[arg(long)]
    pub channels: Option<i64>,
    /// Zero-pad images to this size (e.g. 32: Fashion-MNIST in CIFAR's shape).
    #[arg(long)]
    pub pad_to: Option<i64>,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value_t = TrainSpec::default().device)]
    pub device: String,
    /// Seed for initialisation, shuffling and augmentation.
    #[arg(long, default_value_t = TrainSpec::default().seed)]
    pub seed: u64,
    /// Save the trained weights here (safetensors).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Start from these weights (safetensors, as --save writes them); with --epochs 0
    /// the child is only evaluated (and exported).
    #[arg(long)]
    pub load: Option<PathBuf>,
    /// Export the trained child: torchscript (a traced module for torch.jit.load),
    /// onnx (for ONNX runtimes; converted through the set-up's Python torch) or
    /// safetensors (the weights, with the architecture in FILE.json).
    #[arg(long, value_name = "FORMAT")]
    pub export: Option<ExportFormat>,
    /// The exported file (default: model.pt, model.onnx, model.safetensors).
    #[arg(long, value_name = "FILE", requires = "export")]
    pub export_to: Option<PathBuf>,
    /// Also print each epoch's test accuracy as an `ARCHON_METRIC` line (the trial
    /// protocol), the last one final.
    #[arg(long)]
    pub report_metrics: bool,
}

/// `archon experiment ...`
#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Record a new experiment from a config (checked: the space builds, the tuner takes its options and the space), without running it.
    Create {
        /// The experiment config: archon's TOML, or NNI's YAML (v2 or legacy v1).
        #[arg(
            required_unless_present = "config_flag",
            conflicts_with = "config_flag"
        )]
        config: Option<PathBuf>,
        /// The config, as nnictl spells it (`--config config.yml`).
        #[arg(long = "config", id = "config_flag", value_name = "CONFIG")]
        config_flag: Option<PathBuf>,
        #[command(flatten)]
        runs: RunsDir,
    },
    /// Create an experiment from a config and run it.
    Run {
        /// The experiment config: archon's TOML, or NNI's YAML (v2 or legacy v1).
        #[arg(
            required_unless_present = "config_flag",
            conflicts_with = "config_flag"
        )]
        config: Option<PathBuf>,
        /// The config, as nnictl spells it (`--config config.yml`).
        #[arg(long = "config", id = "config_flag", value_name = "CONFIG")]
        config_flag: Option<PathBuf>,
        #[command(flatten)]
        runs: RunsDir,
    },
    /// Continue a created, stopped or killed experiment.
    Resume {
        /// The experiment id.
        id: String,
        #[command(flatten)]
        runs: RunsDir,
    },
    /// Every experiment in the runs folder.
    List {
        #[command(flatten)]
        runs: RunsDir,
    },
    /// An experiment's trials.
    Show {
        /// The experiment id.
        id: String,
        #[command(flatten)]
        runs: RunsDir,
    },
    /// Stop a running experiment (its trials get SIGTERM, then SIGKILL).
    Stop {
        /// The experiment id.
        id: String,
        #[command(flatten)]
        runs: RunsDir,
    },
    /// The best architectures with their metrics, as NNI-style dicts.
    Export {
        /// The experiment id.
        id: String,
        /// How many.
        #[arg(long, default_value_t = 1)]
        top: usize,
        /// json or table.
        #[arg(long, default_value = "json")]
        format: String,
        /// NNI's export instead (nnictl's `--type`): every succeeded trial with its result,
        /// as NNI's JSON records or CSV table.
        #[arg(long = "type", short = 't', value_name = "json|csv", conflicts_with_all = ["top", "format"])]
        nni_type: Option<String>,
        /// Write NNI's export to this file (nnictl's `--filename`); stdout without it.
        #[arg(long, short = 'f', requires = "nni_type")]
        filename: Option<PathBuf>,
        /// Add each trial's intermediate results to NNI's export (nnictl's
        /// `--intermediate`).
        #[arg(long, short = 'i', requires = "nni_type")]
        intermediate: bool,
        #[command(flatten)]
        runs: RunsDir,
    },
    /// A trial's output (or where every trial's logs are).
    Logs {
        /// The experiment id.
        id: String,
        /// The trial id.
        trial: Option<u64>,
        #[command(flatten)]
        runs: RunsDir,
    },
}

/// `archon score`
#[derive(Debug, ClapArgs)]
pub struct ScoreArgs {
    /// The hub space (with --arch or --sample).
    #[arg(long)]
    pub space: Option<String>,
    #[command(flatten)]
    pub space_args: SpaceArgs,
    /// One architecture: a JSON file, inline JSON, or a NAS-Bench-201 arch string.
    #[arg(long, conflicts_with = "table")]
    pub arch: Option<String>,
    /// Score this many architectures: drawn uniformly from --space (seeded by --seed),
    /// or the first this many of --table.
    #[arg(long)]
    pub sample: Option<usize>,
    /// Score a ground-truth table's architectures (its space, options and training
    /// data) and compare each proxy with their stand-alone test accuracy.
    #[arg(long)]
    pub table: Option<PathBuf>,
    /// Proxies, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub proxy: Vec<String>,
    /// Examples in the minibatch.
    #[arg(long, default_value_t = 64)]
    pub batch: i64,
    /// Seed of the minibatch, the initial weights and --sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The data (as `archon train --dataset`; with --table, the table's).
    #[arg(long, default_value = "fashion-mnist")]
    pub dataset: String,
    /// Where the data is (default: the dataset's Debian folder).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `archon export`
#[derive(Debug, ClapArgs)]
pub struct ExportArgs {
    /// The experiment id (a one-shot search run with --retrain).
    pub id: String,
    /// torchscript (a traced module for torch.jit.load), onnx or safetensors.
    #[arg(long, value_name = "FORMAT")]
    pub format: ExportFormat,
    /// The exported file (default: model.pt or model.onnx in the experiment's folder).
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub runs: RunsDir,
}

/// `archon search`
#[derive(Debug, ClapArgs)]
pub struct SearchArgs {
    /// The search config (TOML; see docs/config-reference.md).
    pub config: PathBuf,
    /// Retrain the found architecture from scratch and report its test accuracy (its
    /// weights are saved as child.safetensors in the experiment's folder).
    #[arg(long)]
    pub retrain: bool,
    /// Export the retrained child into the experiment's folder: torchscript
    /// (model.pt, a traced module for torch.jit.load), onnx (model.onnx) or safetensors.
    #[arg(long, value_name = "FORMAT", requires = "retrain")]
    pub export: Option<ExportFormat>,
    /// Overrides search.device: cpu, cuda, cuda:N or auto.
    #[arg(long)]
    pub device: Option<String>,
    /// Overrides search.epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// A wall-clock budget for the whole run (e.g. 15m, 900s, 1h30m): after the
    /// search, the retraining gets as many epochs (at most retrain.epochs) as its
    /// measured speed fits into what is left.
    #[arg(long, requires = "retrain")]
    pub budget: Option<String>,
    #[command(flatten)]
    pub runs: RunsDir,
}

/// `archon view`
#[derive(Debug, ClapArgs)]
pub struct ViewArgs {
    /// Open this experiment's page (printed as its URL).
    pub id: Option<String>,
    /// Port (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Allow binding a non-loopback address (everyone who can reach it sees the runs).
    #[arg(long)]
    pub allow_remote: bool,
    #[command(flatten)]
    pub runs: RunsDir,
}

/// `archon report`
#[derive(Debug, ClapArgs)]
pub struct ReportArgs {
    /// The experiment.
    pub id: String,
    /// The folder to write the SVG files into.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub runs: RunsDir,
}
