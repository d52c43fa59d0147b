//! `archon bench quality CONFIG --table TABLE`: run a one-shot search config with
//! several seeds and judge each result by the ground truth.

use crate::{
    args::{EstimateArgs, QualityArgs},
    ground_truth::{
        run::{arch_key, is_param_free, supernet_for},
        table::{Entry, Table},
        worker::{train_one, BudgetData, Job},
    },
    quality::{
        baseline::{random_search, RandomBaseline},
        limit, percentile,
        ranking::{rank, EstimateData, EstimateSettings, Ranking},
    },
};
use anyhow::{bail, Context, Result};
use archon_core::reporter;
use archon_core::{plugins::SearchPath, stats};
use archon_plugin_api::{one_shot::Limits, tch, Architecture};
use archon_search as search;
use archon_search::{RunOptions, SearchConfig, SUPERNET_OPTIONS, SUPERNET_WEIGHTS};
use archon_spaces::{hub::SpaceConfig, Supernet};
use archon_store::runs::{config_dir_of, id_of, record_new};
use archon_store::Store;
use serde::Serialize;
use std::{path::Path, process::ExitCode};

/// One search judged.
#[derive(Debug, Clone, Serialize)]
struct SeedResult {
    seed: u64,
    experiment: String,
    search_seconds: f64,
    architecture: String,
    param_free: bool,
    /// Whether the architecture is in the table (otherwise trained here, same budget).
    in_table: bool,
    test: f64,
    percentile: f64,
    random: RandomBaseline,
    ranking: Option<Ranking>,
    ranking_error: Option<String>,
    /// Judged among the table's architectures within the limits (when there are any).
    within_limits: Option<WithinLimits>,
}

/// A search's export judged among the architectures within the limits.
#[derive(Debug, Clone, Serialize)]
struct WithinLimits {
    /// Whether the export itself fits (by the table's costs).
    fits: bool,
    /// Its percentile among the architectures within the limits.
    percentile: f64,
    /// Random search at equal time, drawing only architectures within the limits.
    random: RandomBaseline,
}

/// Mean ± standard deviation.
#[derive(Debug, Clone, Serialize)]
struct Spread {
    mean: f64,
    std: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Spread {
        Spread {
            mean: stats::mean(values),
            std: stats::std_dev(values),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct QualityReport {
    config: String,
    algorithm: String,
    table: String,
    table_architectures: usize,
    table_median_test: f64,
    seeds: Vec<SeedResult>,
    percentile: Spread,
    random_percentile: Spread,
    search_seconds: Spread,
    kendall: Option<Spread>,
    /// Kendall's τ with the supernet's validation loss as the estimate.
    kendall_by_loss: Option<Spread>,
    spearman: Option<Spread>,
    above_75th: usize,
    param_free: usize,
    /// The limits the searches ran under.
    limits: Limits,
    /// The table's architectures within them.
    within_architectures: usize,
    /// The median test accuracy of those.
    within_median_test: Option<f64>,
    percentile_within: Option<Spread>,
    random_percentile_within: Option<Spread>,
    /// Seeds whose export fits and ranks above the 90th percentile within the limits.
    above_90th_within: usize,
}

/// While alive, what is written to stdout goes to stderr (the searches' own lines),
/// so that stdout carries only the report (e.g. `--json` for tools).
pub(crate) struct StdoutToStderr {
    saved: libc::c_int,
}

impl StdoutToStderr {
    /// Sends stdout to stderr until dropped.
    pub(crate) fn new() -> Self {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: duplicating and replacing this process's own standard descriptors.
        let saved = unsafe { libc::dup(1) };
        if saved >= 0 {
            unsafe { libc::dup2(2, 1) };
        }
        StdoutToStderr { saved }
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if self.saved >= 0 {
            // SAFETY: restoring the descriptor saved in `new`.
            unsafe {
                libc::dup2(self.saved, 1);
                libc::close(self.saved);
            }
        }
    }
}

/// The config text with `[limits]` set to `limits` (the experiment records what ran).
pub(crate) fn with_limits(text: &str, limits: &Limits) -> Result<String> {
    let mut table: toml::Table = toml::from_str(text)?;
    if limits.is_empty() {
        table.remove("limits");
    } else {
        table.insert("limits".into(), toml::Value::try_from(limits)?);
    }
    Ok(toml::to_string(&table)?)
}

/// The config text with `seed = seed` (the experiment records what ran).
pub(crate) fn with_seed(text: &str, seed: u64) -> Result<String> {
    let mut table: toml::Table = toml::from_str(text)?;
    table.insert("seed".into(), toml::Value::Integer(seed as i64));
    Ok(toml::to_string(&table)?)
}

/// Checks that `cfg` searches the table's space with the table's options and data.
pub(crate) fn check_matches(
    cfg: &SearchConfig,
    table: &Table,
    config: &Path,
    path: &Path,
) -> Result<()> {
    let space = cfg.space.builtin.clone().unwrap_or_default();
    let h = &table.header;
    // Options the space declares training-only (e.g. `affine`) do not change which
    // architectures it has: a table made with one value judges a search with another.
    let training_only: Vec<&str> = archon_spaces::hub::space(&space)
        .map(|family| {
            family
                .options()
                .iter()
                .filter(|o| o.training_only)
                .map(|o| o.name)
                .collect()
        })
        .unwrap_or_default();
    let architectural = |o: &serde_json::Map<String, serde_json::Value>| {
        let mut o = o.clone();
        o.retain(|k, _| !training_only.contains(&k.as_str()));
        o
    };
    let options = cfg.space_spec()?.options;
    if space != h.space || architectural(&options) != architectural(&h.options) {
        bail!(
            "{} searches space {space} with options {}, but the table {} is for {} with {}: \
             make a table for the config's space (archon bench ground-truth) or search the table's",
            config.display(),
            serde_json::Value::Object(options),
            path.display(),
            h.space,
            serde_json::Value::Object(h.options.clone())
        );
    }
    if cfg.data.dataset != h.budget.dataset {
        bail!(
            "{} searches on {}, but the table {} was trained on {}",
            config.display(),
            cfg.data.dataset,
            path.display(),
            h.budget.dataset
        );
    }
    Ok(())
}

/// Loads the table at `path` for judging `cfg` (from `config`): it must be of the
/// config's space and data and hold at least one trained architecture. Returns it
/// with its entries.
pub(crate) fn load_matching(
    cfg: &SearchConfig,
    config: &Path,
    path: &Path,
) -> Result<(Table, Vec<Entry>)> {
    let table = Table::load(path)?;
    check_matches(cfg, &table, config, path)?;
    let entries = table.entries();
    if entries.is_empty() {
        bail!(
            "{}: the table has no trained architectures yet",
            path.display()
        );
    }
    Ok((table, entries))
}

/// Runs `archon bench quality`.
pub fn run(args: &QualityArgs, search_path: &SearchPath, quiet: bool) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading the search config {}", args.config.display()))?;
    let mut cfg = SearchConfig::parse(&text, &args.config)?;
    if let Some(e) = args.epochs {
        cfg.search.epochs = e;
    }
    let config_dir = config_dir_of(&args.config)?;
    let (table, entries) = load_matching(&cfg, &args.config, &args.table)?;
    cfg.limits = limit::resolve(cfg.limits, (args.max_params, args.max_flops), &entries);
    let within = limit::within(&entries, &cfg.limits);
    if within.is_empty() {
        bail!(
            "none of the table's {} architectures fits the limits ({})",
            entries.len(),
            cfg.limits.describe()
        );
    }
    let tests: Vec<f64> = entries.iter().map(Entry::test).collect();
    let per_training = table.seconds_per_training();
    let cpu_supernet = supernet_for(&table.header.space, &table.header.options, search_path)?;
    let mut budget_data: Option<BudgetData> = None;
    let mut results = Vec::new();
    for i in 0..args.seeds {
        let mut seeded = cfg.clone();
        seeded.seed = cfg.seed + i;
        let name = format!("{}-quality", cfg.name.as_deref().unwrap_or("search"));
        let dir = record_new(
            &args.runs,
            &name,
            &with_limits(&with_seed(&text, seeded.seed)?, &cfg.limits)?,
            &config_dir,
        )?;
        let store = Store::open(&dir)?;
        reporter::progress(format!(
            "search {} of {} (seed {}): experiment {}",
            i + 1,
            args.seeds,
            seeded.seed,
            id_of(&dir)
        ));
        let opts = RunOptions {
            quiet: true,
            ..RunOptions::default()
        };
        let outcome = {
            // The search reports on stdout; here stdout is the report's alone.
            let _redirect = StdoutToStderr::new();
            search::run(&seeded, &config_dir, &store, search_path, &opts)?
        };
        let space = cpu_supernet.search_space();
        let arch = Architecture::from_json(space, &outcome.architecture)
            .context("the search's exported architecture")?;
        let key = arch_key(&table.header.space, space, &arch)?;
        let param_free = is_param_free(&cpu_supernet, &arch);
        let entry = entries.iter().find(|e| e.key == key);
        let (test, in_table) = match entry {
            Some(e) => (e.test(), true),
            None => {
                if budget_data.is_none() {
                    budget_data = Some(BudgetData::load(
                        &table.header.space,
                        &table.header.options,
                        &table.header.budget,
                        None,
                        search_path,
                    )?);
                }
                let data = budget_data.as_ref().expect("loaded above");
                let mut accuracies = Vec::new();
                for seed in table.seeds() {
                    let job = Job {
                        key: key.clone(),
                        arch: outcome.architecture.clone(),
                        seed,
                        param_free,
                    };
                    let row = train_one(
                        &table.header.space,
                        data,
                        &table.header.budget,
                        tch::Device::Cpu,
                        &job,
                    )?;
                    accuracies.push(row.test());
                }
                (stats::mean(&accuracies), false)
            }
        };
        let trials = (outcome.search_seconds / per_training.max(1e-9)).floor() as usize;
        let random = random_search(&entries, trials, args.random_repeats, seeded.seed);
        let (ranking, ranking_error) = if args.rank_archs > 0 {
            match supernet_ranking(
                &seeded,
                &config_dir,
                &dir,
                (&entries, args.rank_archs, seeded.seed),
                settings_of(&args.estimate),
                search_path,
            ) {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(format!("{e:#}"))),
            }
        } else {
            (None, None)
        };
        let within_limits = (!cfg.limits.is_empty()).then(|| WithinLimits {
            fits: entry.is_none_or(|e| limit::fits(e, &cfg.limits)),
            percentile: percentile(test, &within),
            random: random_search(&within, trials, args.random_repeats, seeded.seed),
        });
        let result = SeedResult {
            seed: seeded.seed,
            experiment: id_of(&dir),
            search_seconds: outcome.search_seconds,
            architecture: key,
            param_free,
            in_table,
            test,
            percentile: percentile(test, &entries),
            random,
            ranking,
            ranking_error,
            within_limits,
        };
        if !quiet && !args.json {
            reporter::progress(seed_line(&result));
        }
        results.push(result);
    }
    let report = summarize(args, &cfg, (&tests, &within), results);
    if args.json {
        reporter::note(serde_json::to_string_pretty(&report)?);
    } else {
        reporter::note(render(&report).trim_end_matches('\n'));
    }
    Ok(ExitCode::SUCCESS)
}

/// The estimate's settings from the command line.
pub(crate) fn settings_of(args: &EstimateArgs) -> EstimateSettings {
    EstimateSettings {
        recalibrate_batches: args.recalibrate_batches,
        eval_examples: args.eval_examples,
        finetune_steps: args.finetune_steps,
        finetune_lr: args.finetune_lr,
    }
}

/// Builds the finished search's supernet, loads its weights and ranks a seeded
/// sample (`entries`, how many, seed) of table architectures with it.
pub(crate) fn supernet_ranking(
    cfg: &SearchConfig,
    config_dir: &Path,
    dir: &Path,
    (entries, count, seed): (&[Entry], usize, u64),
    settings: EstimateSettings,
    search_path: &SearchPath,
) -> Result<Ranking> {
    let weights = dir.join(SUPERNET_WEIGHTS);
    if !weights.is_file() {
        bail!("the search saved no supernet");
    }
    let data = search::prepare(cfg, config_dir, search_path)?;
    let options: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join(SUPERNET_OPTIONS))?)?;
    let space_cfg = SpaceConfig {
        options: archon_plugin_api::Options::from_json_str(
            &serde_json::Value::Object(options).to_string(),
        )?,
        ..data.space_cfg.clone()
    };
    let mut supernet = Supernet::build(data.family, &space_cfg, data.device)?;
    supernet
        .var_store_mut()
        .load(&weights)
        .with_context(|| format!("loading {}", weights.display()))?;
    let estimate_data = EstimateData {
        train: &data.weight_split,
        valid: &data.arch_split,
        settings,
    };
    rank(&mut supernet, entries, count, seed, &estimate_data)
}

fn summarize(
    args: &QualityArgs,
    cfg: &SearchConfig,
    (tests, within): (&[f64], &[Entry]),
    results: Vec<SeedResult>,
) -> QualityReport {
    let of =
        |f: &dyn Fn(&SeedResult) -> f64| Spread::of(&results.iter().map(f).collect::<Vec<_>>());
    // A ranking figure over the seeds that have a ranking (none: no spread).
    let over_rankings = |f: &dyn Fn(&Ranking) -> Option<f64>| {
        let values: Vec<f64> = results
            .iter()
            .filter_map(|r| f(r.ranking.as_ref()?))
            .collect();
        (!values.is_empty()).then(|| Spread::of(&values))
    };
    let limited = !cfg.limits.is_empty();
    let over_within = |f: &dyn Fn(&WithinLimits) -> f64| {
        limited.then(|| {
            Spread::of(
                &results
                    .iter()
                    .filter_map(|r| r.within_limits.as_ref().map(f))
                    .collect::<Vec<_>>(),
            )
        })
    };
    let within_tests: Vec<f64> = within.iter().map(Entry::test).collect();
    QualityReport {
        config: args.config.display().to_string(),
        algorithm: cfg.search.algorithm.clone(),
        table: args.table.display().to_string(),
        table_architectures: tests.len(),
        table_median_test: stats::median(tests),
        percentile: of(&|r| r.percentile),
        random_percentile: of(&|r| r.random.percentile_mean),
        search_seconds: of(&|r| r.search_seconds),
        kendall: over_rankings(&|k| k.kendall),
        kendall_by_loss: over_rankings(&|k| k.kendall_by_loss),
        spearman: over_rankings(&|k| k.spearman),
        above_75th: results.iter().filter(|r| r.percentile > 75.0).count(),
        param_free: results.iter().filter(|r| r.param_free).count(),
        limits: cfg.limits,
        within_architectures: within.len(),
        within_median_test: limited.then(|| stats::median(&within_tests)),
        percentile_within: over_within(&|w| w.percentile),
        random_percentile_within: over_within(&|w| w.random.percentile_mean),
        above_90th_within: results
            .iter()
            .filter_map(|r| r.within_limits.as_ref())
            .filter(|w| w.fits && w.percentile > 90.0)
            .count(),
        seeds: results,
    }
}

fn seed_line(r: &SeedResult) -> String {
    let show = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.3}"));
    let ranking = match (&r.ranking, &r.ranking_error) {
        (Some(k), _) => format!(
            "τ {} (by loss {}) ρ {} ({} archs)",
            show(k.kendall),
            show(k.kendall_by_loss),
            show(k.spearman),
            k.architectures
        ),
        (None, Some(e)) => format!("ranking n/a: {e}"),
        (None, None) => "ranking skipped".into(),
    };
    let within = r.within_limits.as_ref().map_or(String::new(), |w| {
        format!(
            "  within limits: percentile {:>5.1}{} (random {:>5.1})",
            w.percentile,
            if w.fits { "" } else { " [over the limits]" },
            w.random.percentile_mean
        )
    });
    format!(
        "seed {:>3}  {:>7.1} s  test {:.4}  percentile {:>5.1}{}  random×{:<4} {:>5.1} ± {:<4.1}  {ranking}{within}  {}{}",
        r.seed,
        r.search_seconds,
        r.test,
        r.percentile,
        if r.in_table { "" } else { "*" },
        r.random.trials,
        r.random.percentile_mean,
        r.random.percentile_std,
        r.architecture,
        if r.param_free { "  [parameter-free]" } else { "" },
    )
}

fn render(r: &QualityReport) -> String {
    let mut out = format!(
        "{} ({}) judged by {} ({} architectures, median test {:.4})\n\
         seed      search  test    percentile  random search at equal time (pct ± std)  supernet ranking  architecture\n",
        r.config, r.algorithm, r.table, r.table_architectures, r.table_median_test
    );
    for s in &r.seeds {
        out.push_str(&seed_line(s));
        out.push('\n');
    }
    let spread = |s: &Option<Spread>| {
        s.as_ref()
            .map_or("n/a".into(), |s| format!("{:.3} ± {:.3}", s.mean, s.std))
    };
    out.push_str(&format!(
        "percentile {:.1} ± {:.1} (random search at equal time {:.1} ± {:.1}); above the 75th percentile on {} of {} seeds; {} parameter-free; search {:.0} ± {:.0} s; Kendall τ {} (by validation loss {}), Spearman ρ {}\n",
        r.percentile.mean,
        r.percentile.std,
        r.random_percentile.mean,
        r.random_percentile.std,
        r.above_75th,
        r.seeds.len(),
        r.param_free,
        r.search_seconds.mean,
        r.search_seconds.std,
        spread(&r.kendall),
        spread(&r.kendall_by_loss),
        spread(&r.spearman),
    ));
    if let (Some(p), Some(random), Some(median)) = (
        &r.percentile_within,
        &r.random_percentile_within,
        r.within_median_test,
    ) {
        out.push_str(&format!(
            "within the limits ({}; {} of {} architectures, median test {:.4}): percentile {:.1} ± {:.1} (random search at equal time within them {:.1} ± {:.1}); fits and above the 90th percentile on {} of {} seeds\n",
            r.limits.describe(),
            r.within_architectures,
            r.table_architectures,
            median,
            p.mean,
            p.std,
            random.mean,
            random.std,
            r.above_90th_within,
            r.seeds.len()
        ));
    }
    if r.seeds.iter().any(|s| !s.in_table) {
        out.push_str("* not in the table: trained here under the table's budget\n");
    }
    out
}
