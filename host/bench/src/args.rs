//! The `archon bench ...` subcommands and their arguments (the CLI composes them).

use archon_core::args::{RunsDir, SpaceArgs};
use clap::{Args as ClapArgs, Subcommand};
use std::path::PathBuf;

/// `archon bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// One search epoch of a one-shot algorithm at a fixed small configuration (NNI's
    /// DARTS yardstick): time, images/s, peak memory, and the fraction of libtorch's
    /// own speed on the same convolutions.
    OneShot(OneShotBenchArgs),
    /// Train a seeded sample (or all) of a space's architectures from scratch under one
    /// budget, in parallel processes, into a ground-truth table (JSON Lines; resumable:
    /// run the same command again after a kill).
    GroundTruth(Box<GroundTruthArgs>),
    /// Summarise a ground-truth table: accuracy spread, rank agreement between seeds,
    /// parameter-free architectures, and against a longer budget's table.
    Table(TableArgs),
    /// Judge a one-shot search config by a ground-truth table: run it with several
    /// seeds; per seed, its architecture's percentile among the table's, random search
    /// at equal wall time, and the supernet's rank agreement with the table.
    Quality(QualityArgs),
    /// The searched network against the baselines a practitioner holds, each trained
    /// by the config's [retrain] recipe: the largest architecture within the same
    /// parameter limit, random search at equal wall time (with --table), and the
    /// ResNet reference nearest in size; over several seeds.
    Final(FinalBenchArgs),
    /// Classic tuners compared on a ground-truth table (trials answered by look-up):
    /// best found after N trials over S seeds, regret, random search beside them.
    Tuners(BenchTunersArgs),
    /// How well a finished one-shot search's supernet ranks a ground-truth table's
    /// architectures (Kendall τ, Spearman ρ), with the estimate's settings to vary.
    Rank(RankArgs),
    /// One ground-truth worker process (what `ground-truth` starts; JSON Lines on stdin).
    #[command(hide = true)]
    GroundTruthWorker,
}

/// `archon bench ground-truth`
#[derive(Debug, ClapArgs)]
pub struct GroundTruthArgs {
    /// The hub space.
    #[arg(long)]
    pub space: String,
    #[command(flatten)]
    pub space_args: SpaceArgs,
    /// Train every architecture of the space (at most 100,000), in an order shuffled
    /// with --sample-seed (so that a table stopped early is a uniform sample).
    #[arg(long, conflicts_with = "archs_from")]
    pub all: bool,
    /// Train this many distinct architectures drawn uniformly (with --sample-seed), or
    /// with --archs-from, that table's first this many (its order is random, and they
    /// stay the same while it grows).
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed of the draw of --sample (and of the order of --all).
    #[arg(long, default_value_t = 0)]
    pub sample_seed: u64,
    /// Train the architectures of this table (e.g. under a longer budget).
    #[arg(long)]
    pub archs_from: Option<PathBuf>,
    /// Training seeds, comma-separated: each architecture is trained once per seed.
    #[arg(long, value_delimiter = ',', default_value = "0,1")]
    pub seeds: Vec<u64>,
    /// The data (as `archon train --dataset`).
    #[arg(long, default_value = "fashion-mnist")]
    pub dataset: String,
    /// Where the data is (default: the dataset's Debian folder).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Training examples (a seeded subset of the training split).
    #[arg(long, default_value_t = 3000)]
    pub train_subset: usize,
    /// Validation examples (held out from the training split, disjoint from the above).
    #[arg(long, default_value_t = 1000)]
    pub valid_subset: usize,
    /// Test examples (a seeded subset of the test split).
    #[arg(long, default_value_t = 2000)]
    pub test_subset: usize,
    /// Epochs.
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,
    /// Initial learning rate (cosine to 0).
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub batch_size: i64,
    /// Seed of the data subsets.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// Train without augmentation (by default: random crop and flip, as `archon train`).
    #[arg(long)]
    pub no_augment: bool,
    /// Worker processes (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// libtorch threads per worker.
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// The table file (created, or resumed if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

/// `archon bench quality`
#[derive(Debug, ClapArgs)]
pub struct QualityArgs {
    /// The search config (TOML with a [search] table).
    pub config: PathBuf,
    /// The ground-truth table of the config's space and options.
    #[arg(long)]
    pub table: PathBuf,
    /// Searches to run, with seeds config.seed, config.seed + 1, ...
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Architectures of the table to rank with each trained supernet (0: skip).
    #[arg(long, default_value_t = 100)]
    pub rank_archs: usize,
    #[command(flatten)]
    pub estimate: EstimateArgs,
    /// Repetitions of the simulated random search.
    #[arg(long, default_value_t = 2000)]
    pub random_repeats: usize,
    /// Overrides search.epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Searches under this parameter limit (a number, or `median`: the table's median),
    /// overriding the config's limits.max_params; the export is also ranked among the
    /// table's architectures within the limits.
    #[arg(long, value_name = "N|median")]
    pub max_params: Option<crate::quality::limit::LimitArg>,
    /// As --max-params, for multiply-adds (limits.max_flops).
    #[arg(long, value_name = "N|median")]
    pub max_flops: Option<crate::quality::limit::LimitArg>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub runs: RunsDir,
}

/// `archon bench final`
#[derive(Debug, ClapArgs)]
pub struct FinalBenchArgs {
    /// The search config (TOML with a [search] table; its [retrain] is the recipe).
    pub config: PathBuf,
    /// Seeds: config.seed, config.seed + 1, ...
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// A ground-truth table of the config's search space: random search at equal wall
    /// time picks from it by validation accuracy, and its pick is trained here.
    #[arg(long)]
    pub table: Option<PathBuf>,
    /// The parameter limit of the largest-that-fits network (default: the found
    /// network's parameters).
    #[arg(long)]
    pub max_params: Option<u64>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub runs: RunsDir,
}

/// How a trained supernet estimates an architecture for a ranking.
#[derive(Debug, Clone, ClapArgs)]
pub struct EstimateArgs {
    /// Validation examples per estimate (the search's architecture split).
    #[arg(long, default_value_t = 1000)]
    pub eval_examples: usize,
    /// Training batches of 64 to recalibrate batch norm on per estimate.
    #[arg(long, default_value_t = 10)]
    pub recalibrate_batches: usize,
    /// SGD steps (batches of 64) fine-tuning each path's inherited weights before its
    /// estimate (0: the supernet's weights as trained).
    #[arg(long, default_value_t = 0)]
    pub finetune_steps: usize,
    /// Learning rate of that fine-tuning.
    #[arg(long, default_value_t = 0.01)]
    pub finetune_lr: f64,
}

/// `archon bench tuners`
#[derive(Debug, ClapArgs)]
pub struct BenchTunersArgs {
    /// Problems, comma-separated: ground-truth tables (each header gives the space) and
    /// test functions `fn:NAME` (branin, hartmann3, hartmann6, goldstein_price,
    /// rastrigin4: numeric spaces, answered by `trial.function`). With several, a
    /// summary ranks the tuners on each by their gain over random search.
    #[arg(long, value_delimiter = ',', required = true)]
    pub table: Vec<String>,
    /// The table's metric to maximise: valid or test.
    #[arg(long, default_value = "valid")]
    pub metric: String,
    /// Tuners, comma-separated; `NAME@PROXY` runs NAME after the proxy pre-filter
    /// (`[tuner.prefilter]`, e.g. `evolution@synflow`). Random search without one is
    /// the baseline of "cost to random's result".
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "random,evolution,ppo,tpe"
    )]
    pub tuners: Vec<String>,
    /// Trials per run.
    #[arg(long, default_value_t = 100)]
    pub trials: usize,
    /// Runs (seeds 0, 1, …) per tuner.
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// What a multi-fidelity promotion costs: `rerun` (its whole budget: trained again
    /// from scratch) or `resume` (only the epochs beyond the promoted trial's: it goes on
    /// from its checkpoint, as the built-in trial does).
    #[arg(long, default_value = "rerun", value_parser = ["rerun", "resume"])]
    pub promotions: String,
    /// `NAME@PROXY` tuners: architectures the pre-filter scores per run.
    #[arg(long, default_value_t = 1000)]
    pub prefilter_sample: usize,
    /// `NAME@PROXY` tuners: the best-scored run first (they count as trials).
    #[arg(long, default_value_t = 10)]
    pub prefilter_keep: usize,
    /// Also draw the mean best-so-far curves here (SVG).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// A tuner option, `TUNER.KEY=VALUE` (repeatable), e.g. `nsga2.population_size=20`.
    #[arg(long = "option", value_name = "TUNER.KEY=VALUE")]
    pub options: Vec<String>,
    /// Several objectives, `METRIC:max|min,…` over the table's columns (valid, test,
    /// params, flops), e.g. `valid:max,params:min`: the experiments keep Pareto fronts
    /// and each tuner's front is scored by its normalised hypervolume.
    #[arg(long, value_delimiter = ',')]
    pub objectives: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `archon bench rank`
#[derive(Debug, ClapArgs)]
pub struct RankArgs {
    /// A finished one-shot search's experiment folder (it holds supernet.safetensors).
    pub experiment: PathBuf,
    /// The ground-truth table of the search's space and options.
    #[arg(long)]
    pub table: PathBuf,
    /// Architectures of the table to rank (a seeded sample; all if fewer).
    #[arg(long, default_value_t = 100)]
    pub archs: usize,
    /// Seed of that sample.
    #[arg(long, default_value_t = 0)]
    pub sample_seed: u64,
    #[command(flatten)]
    pub estimate: EstimateArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `archon bench table`
#[derive(Debug, ClapArgs)]
pub struct TableArgs {
    /// The ground-truth table.
    pub table: PathBuf,
    /// A table of the same architectures under another (longer) budget: rank agreement.
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// Where this architecture (a JSON file such as a search's architecture.json, or
    /// inline JSON) ranks in the table.
    #[arg(long, value_name = "FILE|JSON")]
    pub lookup: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `archon bench one-shot`
#[derive(Debug, ClapArgs)]
pub struct OneShotBenchArgs {
    /// The one-shot plugin.
    #[arg(long, default_value = "darts")]
    pub algorithm: String,
    /// A plugin option, `KEY=VALUE` (repeatable), e.g. `order=2`.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// Time only this many steps and extrapolate to the epoch (default: the epoch).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Fashion-MNIST images, split half for weights, half for architecture.
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    /// DARTS space width (channels of the first cell).
    #[arg(long, default_value_t = 8)]
    pub width: i64,
    /// DARTS space cells.
    #[arg(long, default_value_t = 5)]
    pub cells: i64,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub batch: i64,
    /// Zero-pad the 28×28 images to this size (32: the DARTS paper's CIFAR shape).
    #[arg(long, default_value_t = 28)]
    pub image_size: i64,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}
