//! `archon space list|show|gen`.

use crate::cli::SpaceCommand;
use anyhow::{Context, Result};
use archon_core::args::space_config;
use archon_core::plugins::SearchPath;
use archon_spaces::{hub, Child, Supernet};
use std::process::ExitCode;

/// Runs a `space` subcommand.
pub fn run(cmd: SpaceCommand, search_path: &SearchPath) -> Result<ExitCode> {
    match cmd {
        SpaceCommand::List => {
            for s in hub::spaces() {
                println!("{:<16} {}", s.name(), s.description());
            }
        }
        SpaceCommand::Show { name, space } => {
            let family = hub::space(&name)?;
            let cfg = space_config(&space, search_path)?;
            let supernet = Supernet::build(family, &cfg, archon_plugin_api::tch::Device::Cpu)?;
            let search_space = supernet.search_space();
            println!("{}: {}", family.name(), family.description());
            println!("options:");
            for o in family.options() {
                println!("  {:<16} default {:<6} {}", o.name, o.default, o.help);
            }
            println!(
                "choice points:    {} ({} decisions)",
                supernet.choices().len(),
                search_space.choices().len()
            );
            match search_space.size() {
                Some(n) => println!("architectures:    {n}"),
                None => println!("architectures:    more than 2^128"),
            }
            let params: i64 = supernet
                .var_store()
                .trainable_variables()
                .iter()
                .map(|t| t.numel() as i64)
                .sum();
            println!("supernet params:  {params}");
        }
        SpaceCommand::Gen {
            name,
            space,
            output,
        } => {
            let family = hub::space(&name)?;
            let cfg = space_config(&space, search_path)?;
            let json = serde_json::to_string_pretty(&Child::space_of(family, &cfg)?.to_json())?;
            match output {
                Some(path) => std::fs::write(&path, json + "\n")
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{json}"),
            }
        }
        SpaceCommand::Bench {
            name,
            space,
            batch,
            steps,
            device,
            arch,
        } => {
            let args = super::space_bench::BenchArgs {
                name: &name,
                space: &space,
                batch,
                steps,
                device: &device,
                arch: arch.as_deref(),
            };
            super::space_bench::run(&args, search_path)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
