//! `archon score`: zero-cost proxies of untrained architectures (see
//! `archon_spaces::proxies`) — of given or sampled architectures of a space, or of a
//! ground-truth table's architectures, then with each proxy's rank agreement with the
//! table's stand-alone accuracy.

use crate::cli::ScoreArgs;
use anyhow::{bail, Context, Result};
use archon_bench::ground_truth::{run::arch_key, table::Table, worker::BudgetData};
use archon_core::args::space_spec;
use archon_core::{
    child::architecture,
    plugins::SearchPath,
    spec::{data, DataSpec},
    stats::{kendall, spearman, Draw},
};
use archon_plugin_api::{tch, Architecture};
use archon_spaces::{
    hub::{self, SpaceConfig},
    proxies::{score, Proxy},
    Child,
};
use serde::Serialize;
use std::{process::ExitCode, time::Instant};

/// One architecture's scores.
#[derive(Debug, Serialize)]
struct Scored {
    key: String,
    scores: Vec<f64>,
    /// The table's mean test accuracy (table mode).
    test: Option<f64>,
}

/// One proxy against the table.
#[derive(Debug, Serialize)]
struct Agreement {
    proxy: &'static str,
    spearman: Option<f64>,
    kendall: Option<f64>,
    /// Mean seconds per architecture.
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    space: String,
    proxies: Vec<&'static str>,
    batch: i64,
    seed: u64,
    architectures: Vec<Scored>,
    agreement: Vec<Agreement>,
}

/// The largest minibatch: a proxy scores one minibatch, and every architecture holds
/// its activations (and for some their gradients) at once.
pub const MAX_BATCH: i64 = 4096;

/// Refuses sizes that cannot give a score, naming the flag (and the proxy that needs
/// more than one example).
fn check_sizes(args: &ScoreArgs, proxies: &[Proxy]) -> Result<()> {
    let pairwise = [Proxy::JacobCov, Proxy::Naswot];
    if args.batch < 2 {
        if let Some(p) = proxies.iter().find(|p| pairwise.contains(p)) {
            bail!(
                "--batch {}: {} compares the minibatch's examples with each other; give at least 2",
                args.batch,
                p.name()
            );
        }
    }
    if args.batch < 1 || args.batch > MAX_BATCH {
        bail!(
            "--batch {}: give between 1 and {MAX_BATCH} examples (one minibatch is all a proxy uses)",
            args.batch
        );
    }
    if args.sample == Some(0) {
        bail!("--sample 0 scores nothing; give at least 1 architecture");
    }
    Ok(())
}

/// Runs `archon score`.
pub fn run(args: &ScoreArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let proxies: Vec<Proxy> = if args.proxy.is_empty() {
        Proxy::ALL.to_vec()
    } else {
        args.proxy
            .iter()
            .map(|p| Proxy::from_name(p).map_err(|e| anyhow::anyhow!("--proxy: {e}")))
            .collect::<Result<_>>()?
    };
    check_sizes(args, &proxies)?;
    // The space, its configuration for the data, the minibatch, the architectures.
    let (space_name, cfg, train, archs): (
        String,
        SpaceConfig,
        _,
        Vec<(serde_json::Value, Option<f64>)>,
    ) = if let Some(path) = &args.table {
        let table = Table::load(path)?;
        let h = &table.header;
        let data = BudgetData::load(
            &h.space,
            &h.options,
            &h.budget,
            args.data_dir.as_deref(),
            search_path,
        )?;
        let entries = table.entries();
        let take = args.sample.unwrap_or(entries.len()).min(entries.len());
        let archs = entries[..take]
            .iter()
            .map(|e| (e.arch.clone(), Some(e.test())))
            .collect();
        (h.space.clone(), data.cfg, data.train, archs)
    } else {
        let Some(space) = &args.space else {
            bail!(
                "which architectures? give --table TABLE, or --space NAME with --arch or --sample"
            );
        };
        let family = hub::space(space)?;
        let loaded = data::load(&DataSpec {
            dataset: args.dataset.clone(),
            data_dir: args.data_dir.clone(),
            ..DataSpec::default()
        })?;
        let mut cfg = space_spec(&args.space_args)?.config(search_path)?;
        loaded.shape(&mut cfg);
        let ss = Child::space_of(family, &cfg)?;
        let archs = match (&args.arch, args.sample) {
            (Some(a), None) => vec![(architecture(a, family.name(), &cfg)?, None)],
            (None, Some(n)) => {
                let mut draw = Draw(args.seed);
                (0..n)
                    .map(|_| {
                        let sel = ss.sample(&mut |k| draw.below(k));
                        Ok((Architecture::new(&ss, sel)?.to_json(&ss), None))
                    })
                    .collect::<Result<_>>()?
            }
            _ => bail!("give one of --arch ARCH and --sample N with --space"),
        };
        (space.clone(), cfg, loaded.train, archs)
    };
    if train.inputs.kind() != tch::Kind::Float {
        bail!("zero-cost proxies score image networks; {space_name} takes text");
    }
    let family = hub::space(&space_name)?;
    let batch = (args.batch as usize).min(train.len()) as i64;
    let minibatch = train.subset(batch as usize, args.seed);
    let ss = Child::space_of(family, &cfg)?;
    let mut scored = Vec::with_capacity(archs.len());
    let mut seconds = vec![0.0; proxies.len()];
    for (i, (arch, test)) in archs.iter().enumerate() {
        let key = arch_key(&space_name, &ss, &Architecture::from_json(&ss, arch)?)?;
        tch::manual_seed(args.seed as i64);
        let mut child = Child::build(family, &cfg, arch, tch::Device::Cpu)
            .with_context(|| format!("building {key}"))?;
        let mut scores = Vec::with_capacity(proxies.len());
        for (k, &p) in proxies.iter().enumerate() {
            let start = Instant::now();
            scores.push(
                score(&mut child, p, &minibatch.inputs, &minibatch.labels)
                    .with_context(|| format!("{} of {key}", p.name()))?,
            );
            seconds[k] += start.elapsed().as_secs_f64();
        }
        if !args.json && args.table.is_none() {
            let shown: Vec<String> = proxies
                .iter()
                .zip(&scores)
                .map(|(p, s)| format!("{} {s:.4e}", p.name()))
                .collect();
            println!("{key}  {}", shown.join("  "));
        } else if !args.json && (i + 1) % 50 == 0 {
            eprintln!("scored {} of {}", i + 1, archs.len());
        }
        scored.push(Scored {
            key,
            scores,
            test: *test,
        });
    }
    let agreement: Vec<Agreement> = if args.table.is_some() {
        let truth: Vec<f64> = scored.iter().filter_map(|s| s.test).collect();
        proxies
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let est: Vec<f64> = scored.iter().map(|s| s.scores[k]).collect();
                Agreement {
                    proxy: p.name(),
                    spearman: spearman(&est, &truth),
                    kendall: kendall(&est, &truth),
                    seconds: seconds[k] / scored.len().max(1) as f64,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    if args.json {
        let report = Report {
            space: space_name,
            proxies: proxies.iter().map(|p| p.name()).collect(),
            batch,
            seed: args.seed,
            architectures: scored,
            agreement,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !agreement.is_empty() {
        println!(
            "{} architectures of {}; each proxy against their stand-alone test accuracy (minibatch of {batch}, seed {}):",
            scored.len(),
            args.table.as_ref().expect("table mode").display(),
            args.seed
        );
        println!("proxy        Spearman ρ  Kendall τ  ms per architecture");
        let show = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.3}"));
        for a in &agreement {
            println!(
                "{:<12} {:>10}  {:>9}  {:>8.1}",
                a.proxy,
                show(a.spearman),
                show(a.kendall),
                a.seconds * 1000.0
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
