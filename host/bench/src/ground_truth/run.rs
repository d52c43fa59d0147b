//! `archon bench ground-truth`: train a seeded sample (or all) of a space's
//! architectures from scratch under one budget, in parallel worker processes,
//! appending each result to the table as it finishes (resumable after a kill).

use super::{
    table::{self, Budget, Header, Row},
    worker::{Job, Setup},
};
use anyhow::{anyhow, bail, Context, Result};
use archon_core::{plugins::SearchPath, progress, spec::SpaceSpec, stats::Draw};
use archon_plugin_api::{Architecture, SearchSpace, Selection};
use archon_spaces::{
    hub::{self, nb201_arch_string},
    parse_device, Supernet,
};
use std::{
    collections::{HashSet, VecDeque},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::Instant,
};

/// Which architectures a table trains.
#[derive(Debug, Clone, PartialEq)]
pub enum ArchSet {
    /// Every architecture of the space, in an order shuffled with `seed`.
    All {
        /// The order's seed.
        seed: u64,
    },
    /// `count` distinct architectures drawn uniformly with `seed`.
    Sample {
        /// How many.
        count: usize,
        /// The draw's seed.
        seed: u64,
    },
    /// The architectures of another table (the first `count` of a seeded shuffle).
    From {
        /// That table.
        table: PathBuf,
        /// How many of them, the first in the table's order (all: `None`).
        count: Option<usize>,
    },
}

/// A ground-truth run.
#[derive(Debug, Clone)]
pub struct GroundTruth {
    /// The hub space.
    pub space: String,
    /// Its options.
    pub options: serde_json::Map<String, serde_json::Value>,
    /// The budget.
    pub budget: Budget,
    /// Which architectures.
    pub archs: ArchSet,
    /// Training seeds (every architecture is trained once per seed).
    pub seeds: Vec<u64>,
    /// Where the data is.
    pub data_dir: Option<PathBuf>,
    /// Worker processes.
    pub workers: usize,
    /// libtorch threads per worker.
    pub threads: i32,
    /// cpu, cuda, cuda:N or auto.
    pub device: String,
    /// The table file.
    pub out: PathBuf,
    /// The command line, recorded in the table.
    pub command: String,
    /// No progress bar or per-training lines.
    pub quiet: bool,
}

/// A short unique name of `arch`: NAS-Bench-201's arch string, or else each
/// decision's index (input choices: indices joined by `+`) joined by `-`.
pub fn arch_key(space_name: &str, space: &SearchSpace, arch: &Architecture) -> Result<String> {
    if space_name == "nas-bench-201" {
        return Ok(nb201_arch_string(space, arch)?);
    }
    Ok(arch
        .selections()
        .iter()
        .map(|s| match s {
            Selection::Number(x) => x.0.to_string(),
            other => other
                .indices()
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("+"),
        })
        .collect::<Vec<_>>()
        .join("-"))
}

/// Whether every layer decision of `arch` picks a parameter-free candidate (by the
/// roles the space declares); false for a space without layer decisions.
pub fn is_param_free(supernet: &Supernet, arch: &Architecture) -> bool {
    let space = supernet.search_space();
    let mut any = false;
    for (choice, selection) in space.choices().iter().zip(arch.selections()) {
        let point = supernet.choices().iter().find(|p| p.label == choice.name());
        let (Some(point), Selection::One(i)) = (point, selection) else {
            continue;
        };
        if let archon_plugin_api::space::ChoiceKind::Layer { .. } = point.kind {
            any = true;
            if !point.roles.get(*i).is_some_and(|r| r.is_parameter_free()) {
                return false;
            }
        }
    }
    any
}

/// The most architectures `--all` trains.
const MAX_ALL: u128 = 100_000;

/// `count` distinct architectures of `space` drawn uniformly with `seed`, in the
/// order drawn (fewer when the space has fewer).
pub fn sample_architectures(
    space: &SearchSpace,
    count: usize,
    seed: u64,
) -> Result<Vec<Architecture>> {
    let mut draw = Draw(seed);
    let mut seen = HashSet::new();
    let mut archs = Vec::with_capacity(count);
    while archs.len() < count {
        let Some(s) = space.sample_unseen(&seen, &mut |n| draw.below(n)) else {
            break;
        };
        seen.insert(s.clone());
        archs.push(Architecture::new(space, s)?);
    }
    Ok(archs)
}

/// The architectures `run` trains, in order.
fn architectures(run: &GroundTruth, space: &SearchSpace) -> Result<Vec<Architecture>> {
    match &run.archs {
        ArchSet::All { seed } => {
            let size = space.size().filter(|&n| n <= MAX_ALL).ok_or_else(|| {
                anyhow!(
                    "--all: space {} has {} architectures, more than {MAX_ALL}; use --sample K \
                     (or a smaller space, e.g. --option ops=... for nas-bench-201)",
                    run.space,
                    space.size().map_or("too many".into(), |n| n.to_string())
                )
            })?;
            // In a seeded random order: every prefix of a partly made table (a run
            // stopped early) is a uniform sample of the space.
            let mut order: Vec<u128> = (0..size).collect();
            let mut draw = Draw(*seed);
            for i in (1..order.len()).rev() {
                order.swap(i, draw.below(i as u128 + 1) as usize);
            }
            Ok(order
                .into_iter()
                .filter_map(|i| space.architecture_at(i))
                .collect())
        }
        ArchSet::Sample { count, seed } => sample_architectures(space, *count, *seed),
        ArchSet::From { table, count } => {
            let other = table::Table::load(table)?;
            if other.header.space != run.space || other.header.options != run.options {
                bail!(
                    "--archs-from {}: made for space {} with options {}, not {} with {}",
                    table.display(),
                    other.header.space,
                    serde_json::Value::Object(other.header.options.clone()),
                    run.space,
                    serde_json::Value::Object(run.options.clone())
                );
            }
            // The table's first `count`: a table's order is already random (`--all`
            // shuffles, `--sample` draws), and its first ones stay the same while it
            // grows, so a table made from them can be resumed.
            let mut entries = other.entries();
            entries.truncate(count.unwrap_or(usize::MAX));
            entries
                .iter()
                .map(|e| Ok(Architecture::from_json(space, &e.arch)?))
                .collect()
        }
    }
}

/// A CPU supernet of `space` with `options` (for its search space and its
/// candidates' roles; the input shape does not change either).
pub fn supernet_for(
    space: &str,
    options: &serde_json::Map<String, serde_json::Value>,
    search_path: &SearchPath,
) -> Result<Supernet> {
    let family = hub::space(space)?;
    let cfg = SpaceSpec {
        options: options.clone(),
        ..SpaceSpec::default()
    }
    .config(search_path)?;
    Ok(Supernet::build(
        family,
        &cfg,
        archon_plugin_api::tch::Device::Cpu,
    )?)
}

/// What the workers share while they run.
struct Shared<'a> {
    queue: Mutex<VecDeque<Job>>,
    failed: AtomicBool,
    error: Mutex<Option<anyhow::Error>>,
    out: &'a Path,
    finished: Mutex<usize>,
}

/// Runs `run`: returns the table as it is at the end.
pub fn run(run: &GroundTruth, search_path: &SearchPath) -> Result<table::Table> {
    if run.seeds.is_empty() {
        bail!("--seeds: give at least one training seed, e.g. --seeds 0,1");
    }
    parse_device(&run.device)?;
    let supernet = supernet_for(&run.space, &run.options, search_path)?;
    let space = supernet.search_space();
    let archs = architectures(run, space)?;
    // Check the data first, so that a bad budget fails before the table is written
    // or any worker starts.
    super::worker::BudgetData::load(
        &run.space,
        &run.options,
        &run.budget,
        run.data_dir.as_deref(),
        search_path,
    )?;
    let header = Header {
        format: table::FORMAT.into(),
        space: run.space.clone(),
        options: run.options.clone(),
        budget: run.budget.clone(),
        command: run.command.clone(),
    };
    let existing = table::open_for_append(&run.out, &header)?;
    let done = existing.done();
    // Architecture by architecture, every seed of one before the next: a table
    // stopped early holds all its seeds of a uniform sample.
    let mut jobs = VecDeque::new();
    for arch in &archs {
        let key = arch_key(&run.space, space, arch)?;
        for &seed in &run.seeds {
            if !done.contains(&(key.clone(), seed)) {
                jobs.push_back(Job {
                    key: key.clone(),
                    arch: arch.to_json(space),
                    seed,
                    param_free: is_param_free(&supernet, arch),
                });
            }
        }
    }
    let total = archs.len() * run.seeds.len();
    let already = total - jobs.len();
    archon_core::reporter::note(format!(
        "ground truth: {} architectures of {} × seeds {:?} = {total} trainings; {already} already in {}, {} to go on {} worker(s) × {} thread(s)",
        archs.len(),
        run.space,
        run.seeds,
        run.out.display(),
        jobs.len(),
        run.workers.max(1),
        run.threads
    ));
    if jobs.is_empty() {
        return table::Table::load(&run.out);
    }
    let to_go = jobs.len();
    let setup = Setup {
        space: run.space.clone(),
        options: run.options.clone(),
        budget: run.budget.clone(),
        data_dir: run.data_dir.clone(),
        threads: run.threads,
        device: run.device.clone(),
    };
    let shared = Shared {
        queue: Mutex::new(jobs),
        failed: AtomicBool::new(false),
        error: Mutex::new(None),
        out: &run.out,
        finished: Mutex::new(0),
    };
    let bar = progress::bar(
        "ground truth [{bar:30}] {pos}/{len} {msg} ({elapsed} elapsed, ETA {eta})",
        run.quiet,
    )?;
    bar.set_length(to_go as u64);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..run.workers.clamp(1, to_go) {
            scope.spawn(|| {
                if let Err(e) = drive_worker(&setup, &shared, &bar, run.quiet, to_go, start) {
                    shared.failed.store(true, Ordering::SeqCst);
                    shared.error.lock().expect("error slot").get_or_insert(e);
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(e) = shared.error.into_inner().expect("error slot") {
        let finished = *shared.finished.lock().expect("counter");
        return Err(e.context(format!(
            "ground truth stopped after {finished} of {to_go} trainings; every finished one is in {} — run the same command again to go on",
            run.out.display()
        )));
    }
    table::Table::load(&run.out)
}

/// One worker process: feed it jobs until the queue is empty or another worker failed.
fn drive_worker(
    setup: &Setup,
    shared: &Shared,
    bar: &indicatif::ProgressBar,
    quiet: bool,
    to_go: usize,
    start: Instant,
) -> Result<()> {
    let exe = std::env::current_exe().context("finding the archon executable")?;
    let mut child = Command::new(exe)
        .args(["-q", "bench", "ground-truth-worker"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a ground-truth worker process")?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    writeln!(stdin, "{}", serde_json::to_string(setup)?)?;
    let result = (|| -> Result<()> {
        loop {
            if shared.failed.load(Ordering::SeqCst) {
                return Ok(());
            }
            let Some(job) = shared.queue.lock().expect("queue").pop_front() else {
                return Ok(());
            };
            writeln!(stdin, "{}", serde_json::to_string(&job)?)?;
            stdin.flush()?;
            let mut line = String::new();
            if stdout.read_line(&mut line)? == 0 {
                bail!(
                    "a ground-truth worker exited while training {} (seed {}); its messages are above",
                    job.key,
                    job.seed
                );
            }
            let value: serde_json::Value = serde_json::from_str(&line)
                .with_context(|| format!("a ground-truth worker's reply {line:?}"))?;
            if let Some(error) = value.get("error") {
                bail!(
                    "training {} (seed {}) failed: {}",
                    job.key,
                    job.seed,
                    error.as_str().unwrap_or_default()
                );
            }
            let row: Row = serde_json::from_value(value)?;
            let mut finished = shared.finished.lock().expect("counter");
            table::append(shared.out, &row)?;
            *finished += 1;
            bar.inc(1);
            bar.set_message(format!("last: test {:.3}", row.test()));
            if !quiet && bar.is_hidden() {
                let elapsed = start.elapsed().as_secs_f64();
                let eta = elapsed / *finished as f64 * (to_go - *finished) as f64;
                archon_core::reporter::note(format!(
                    "[{}/{to_go}] {} seed {}: valid {:.4} test {:.4}, {} params ({:.1} s; ETA {:.0} min)",
                    *finished,
                    row.key,
                    row.seed,
                    row.valid(),
                    row.test(),
                    row.params,
                    row.seconds,
                    eta / 60.0
                ));
            }
        }
    })();
    drop(stdin);
    let _ = child.wait();
    result
}
