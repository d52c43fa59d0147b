//! `archon train`: train one architecture of a space on a dataset, report its test
//! accuracy, params and FLOPs, optionally save the weights.

use crate::cli::TrainArgs;
use anyhow::Result;
use archon_core::args::space_spec;
use archon_core::{
    child::train_child,
    plugins::SearchPath,
    spec::{DataSpec, Export, TrainSpec},
};
use std::process::ExitCode;

/// Runs `archon train`.
pub fn run(args: &TrainArgs, search_path: &SearchPath) -> Result<ExitCode> {
    train_child(&train_spec(args)?, search_path, false)?;
    Ok(ExitCode::SUCCESS)
}

/// The spec `args` describe.
pub fn train_spec(args: &TrainArgs) -> Result<TrainSpec> {
    let spec = TrainSpec {
        space: args.space.clone(),
        arch: args.arch.clone(),
        space_spec: space_spec(&args.space_args)?,
        data: DataSpec {
            dataset: args.dataset.clone(),
            data_dir: args.data_dir.clone(),
            image_size: args.image_size,
            max_len: args.max_len,
            channels: args.channels,
            pad_to: args.pad_to,
            seed: args.seed,
        },
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        cutout: args.cutout,
        drop_path: args.drop_path,
        aux_weight: args.aux_weight,
        recipe: args.recipe.resolve("--")?,
        holdout: args.holdout,
        train_subset: args.train_subset,
        test_subset: args.test_subset,
        device: args.device.clone(),
        seed: args.seed,
        save: args.save.clone(),
        load: args.load.clone(),
        export: args.export.map(|format| Export {
            format,
            path: args
                .export_to
                .clone()
                .unwrap_or_else(|| format.default_file().into()),
        }),
        report_metrics: args.report_metrics,
        ..TrainSpec::default()
    };
    spec.check(archon_core::spec::train::flag)?;
    Ok(spec)
}
