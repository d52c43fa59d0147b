//! `archon bench ground-truth` and `archon bench table` (and the hidden worker).

use super::space_config::space_spec;
use crate::{
    cli::{BenchCommand, GroundTruthArgs, TableArgs},
    ground_truth::{
        report,
        run::{self, ArchSet, GroundTruth},
        table::{Budget, Table},
        worker,
    },
    plugins::SearchPath,
};
use anyhow::{bail, Result};
use std::process::ExitCode;

/// Runs an `archon bench` subcommand other than `one-shot`.
pub fn run(cmd: BenchCommand, search_path: &SearchPath, quiet: bool) -> Result<ExitCode> {
    match cmd {
        BenchCommand::GroundTruth(args) => ground_truth(&args, search_path, quiet),
        BenchCommand::Table(args) => table(&args, search_path),
        BenchCommand::Quality(args) => super::quality::run(&args, search_path, quiet),
        BenchCommand::Final(args) => super::bench_final::run(&args, search_path, quiet),
        BenchCommand::Rank(args) => super::rank::run(&args, search_path),
        BenchCommand::Tuners(args) => super::bench_tuners::run(&args, search_path),
        BenchCommand::GroundTruthWorker => worker::serve(search_path).map(|()| ExitCode::SUCCESS),
        BenchCommand::OneShot(args) => super::bench::run(&args, search_path),
    }
}

/// The command line as a person would retype it (program name `archon`).
fn command_line() -> String {
    std::iter::once("archon".to_string())
        .chain(std::env::args().skip(1).map(|a| {
            if a.is_empty()
                || a.contains(|c: char| c.is_whitespace() || "'\"|$&;<>()*?".contains(c))
            {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a
            }
        }))
        .collect::<Vec<_>>()
        .join(" ")
}

fn ground_truth(args: &GroundTruthArgs, search_path: &SearchPath, quiet: bool) -> Result<ExitCode> {
    let spec = space_spec(&args.space_args)?;
    let archs = match (&args.archs_from, args.all, args.sample) {
        (Some(table), _, count) => ArchSet::From {
            table: table.clone(),
            count,
        },
        (None, true, None) => ArchSet::All {
            seed: args.sample_seed,
        },
        (None, false, Some(count)) => ArchSet::Sample {
            count,
            seed: args.sample_seed,
        },
        (None, true, Some(_)) => bail!("--all and --sample: give one of them"),
        (None, false, None) => {
            bail!("which architectures? give --all, --sample K or --archs-from TABLE")
        }
    };
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get()) / args.threads.max(1) as usize
    });
    let run = GroundTruth {
        space: args.space.clone(),
        options: spec.options,
        budget: Budget {
            dataset: args.dataset.clone(),
            train_subset: args.train_subset,
            valid_subset: args.valid_subset,
            test_subset: args.test_subset,
            epochs: args.epochs,
            lr: args.lr,
            batch_size: args.batch_size,
            data_seed: args.data_seed,
            augment: !args.no_augment,
        },
        archs,
        seeds: args.seeds.clone(),
        data_dir: args.data_dir.clone(),
        workers: workers.max(1),
        threads: args.threads.max(1),
        device: args.device.clone(),
        out: args.out.clone(),
        command: command_line(),
        quiet,
    };
    let table = run::run(&run, search_path)?;
    print!(
        "{}",
        report::render(&table, &report::summarize(&table, None))
    );
    Ok(ExitCode::SUCCESS)
}

fn table(args: &TableArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let table = Table::load(&args.table)?;
    if let Some(arch) = &args.lookup {
        return lookup(&table, arch, args.json, search_path);
    }
    let against = args.against.as_deref().map(Table::load).transpose()?;
    let summary = report::summarize(&table, against.as_ref());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", report::render(&table, &summary));
    }
    Ok(ExitCode::SUCCESS)
}

/// `bench table --lookup`: where one architecture ranks in the table.
fn lookup(table: &Table, arch: &str, json: bool, search_path: &SearchPath) -> Result<ExitCode> {
    let h = &table.header;
    let supernet = run::supernet_for(&h.space, &h.options, search_path)?;
    let space = supernet.search_space();
    let text = if std::path::Path::new(arch).is_file() {
        std::fs::read_to_string(arch)?
    } else {
        arch.to_string()
    };
    let value: serde_json::Value = serde_json::from_str(text.trim())
        .map_err(|e| anyhow::anyhow!("--lookup {arch:?}: not an architecture file or JSON: {e}"))?;
    let architecture = archon_plugin_api::Architecture::from_json(space, &value)
        .map_err(|e| anyhow::anyhow!("--lookup: not an architecture of the table's space: {e}"))?;
    let key = run::arch_key(&h.space, space, &architecture)?;
    let entries = table.entries();
    let tests: Vec<f64> = entries.iter().map(|e| e.test()).collect();
    let Some(entry) = entries.iter().find(|e| e.key == key) else {
        bail!(
            "{key} is not among the table's {} architectures (train it with `archon train` under the table's budget, or complete the table)",
            entries.len()
        );
    };
    let percentile = crate::ground_truth::stats::percentile(entry.test(), &tests);
    let rank = 1 + tests.iter().filter(|&&t| t > entry.test()).count();
    if json {
        println!(
            "{}",
            serde_json::json!({"key": key, "test": entry.test(), "valid": entry.valid(),
                "params": entry.params, "percentile": percentile, "rank": rank,
                "architectures": entries.len(), "param_free": entry.param_free})
        );
    } else {
        println!(
            "{key}: test accuracy {:.4} (mean over seeds {:?}), {} params — rank {rank} of {}, percentile {percentile:.1} of the table's architectures{}",
            entry.test(),
            entry.by_seed.keys().collect::<Vec<_>>(),
            entry.params,
            entries.len(),
            if entry.param_free { " (parameter-free)" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}
