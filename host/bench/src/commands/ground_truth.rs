//! `archon bench ground-truth` and `archon bench table` (and the hidden worker).

use crate::{
    args::{GroundTruthArgs, TableArgs},
    ground_truth::{
        report,
        run::{self, ArchSet, GroundTruth},
        table::{Budget, Table},
    },
};
use anyhow::{bail, Result};
use archon_core::args::space_spec;
use archon_core::plugins::SearchPath;
use archon_core::reporter;
use std::process::ExitCode;

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

pub(super) fn ground_truth(
    args: &GroundTruthArgs,
    search_path: &SearchPath,
    quiet: bool,
) -> Result<ExitCode> {
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
    reporter::note(report::render(&table, &report::summarize(&table, None)).trim_end_matches('\n'));
    Ok(ExitCode::SUCCESS)
}

pub(super) fn table(args: &TableArgs, search_path: &SearchPath) -> Result<ExitCode> {
    let table = Table::load(&args.table)?;
    if let Some(arch) = &args.lookup {
        return lookup(&table, arch, args.json, search_path);
    }
    let against = args.against.as_deref().map(Table::load).transpose()?;
    let summary = report::summarize(&table, against.as_ref());
    if args.json {
        reporter::note(serde_json::to_string_pretty(&summary)?);
    } else {
        reporter::note(report::render(&table, &summary).trim_end_matches('\n'));
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
    let percentile = archon_core::stats::percentile(entry.test(), &tests);
    let rank = 1 + tests.iter().filter(|&&t| t > entry.test()).count();
    if json {
        reporter::note(format!(
            "{}",
            serde_json::json!({"key": key, "test": entry.test(), "valid": entry.valid(),
                "params": entry.params, "percentile": percentile, "rank": rank,
                "architectures": entries.len(), "param_free": entry.param_free})
        ));
    } else {
        reporter::note(format!(
            "{key}: test accuracy {:.4} (mean over seeds {:?}), {} params — rank {rank} of {}, percentile {percentile:.1} of the table's architectures{}",
            entry.test(),
            entry.by_seed.keys().collect::<Vec<_>>(),
            entry.params,
            entries.len(),
            if entry.param_free { " (parameter-free)" } else { "" }
        ));
    }
    Ok(ExitCode::SUCCESS)
}
