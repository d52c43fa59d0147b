//! `archon plugins list|info|check`.

use crate::cli::PluginsCommand;
use anyhow::Result;
use archon_core::plugins::{resolve, LoadedPlugin, Registry, SearchPath};
use archon_plugin_api::{
    conformance::{check_trainer, check_tuner, ConformanceReport},
    OneShotClient, PluginKind, TunerClient, LIBTORCH_VERSION, PLUGIN_API_VERSION, TCH_VERSION,
};
use std::process::ExitCode;

/// Runs a `plugins` subcommand.
pub fn run(cmd: PluginsCommand, search_path: &SearchPath) -> Result<ExitCode> {
    match cmd {
        PluginsCommand::List => list(search_path),
        PluginsCommand::Info { plugin } => info(&resolve(&plugin, search_path)?),
        PluginsCommand::Check { plugin } => check(&resolve(&plugin, search_path)?),
    }
}

fn list(search_path: &SearchPath) -> Result<ExitCode> {
    let registry = Registry::discover(search_path);
    if registry.found().is_empty() {
        println!("no plugins found; searched:");
        for dir in search_path.dirs() {
            println!("  {} ({})", dir.path.display(), dir.origin);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![[
        "NAME".to_string(),
        "KIND".into(),
        "VERSION".into(),
        "COMPATIBLE".into(),
        "PATH".into(),
    ]];
    let mut notes = Vec::new();
    for found in registry.found() {
        match &found.outcome {
            Ok(p) => rows.push([
                p.name.clone(),
                p.kinds_text(),
                p.version.clone(),
                "yes".into(),
                p.path.display().to_string(),
            ]),
            Err(e) => {
                rows.push([
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "no".into(),
                    e.path.display().to_string(),
                ]);
                notes.push(e.to_string());
            }
        }
    }
    print_table(&rows);
    if !notes.is_empty() {
        println!("\nrefused:");
        for note in notes {
            println!("  {note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table<const N: usize>(rows: &[[String; N]]) {
    let widths: Vec<usize> = (0..N)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

fn info(p: &LoadedPlugin) -> Result<ExitCode> {
    println!("name:          {}", p.name);
    println!("version:       {}", p.version);
    println!("kinds:         {}", p.kinds_text());
    println!("description:   {}", p.description);
    println!("path:          {}", p.path.display());
    println!(
        "built against: archon-plugin-api {}, tch {}, libtorch {}",
        p.built_against.plugin_api, p.built_against.tch, p.built_against.libtorch
    );
    println!(
        "this archon:   archon-plugin-api {PLUGIN_API_VERSION}, tch {TCH_VERSION}, libtorch {LIBTORCH_VERSION}"
    );
    println!("compatible:    yes");
    match &p.options {
        None => println!("options:       (the plugin does not describe its options)"),
        Some(docs) if docs.is_empty() => println!("options:       none"),
        Some(docs) => {
            println!("options:");
            let mut rows = vec![[
                "  KEY".to_string(),
                "TYPE".into(),
                "DEFAULT".into(),
                "DESCRIPTION".into(),
            ]];
            rows.extend(docs.iter().map(|d| {
                [
                    format!("  {}", d.key),
                    d.type_name.clone(),
                    match &d.default {
                        serde_json::Value::Null => "-".to_string(),
                        v => v.to_string(),
                    },
                    d.doc.clone(),
                ]
            }));
            print_table(&rows);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(p: &LoadedPlugin) -> Result<ExitCode> {
    println!("checking {} {} ({})", p.name, p.version, p.path.display());
    let mut report = ConformanceReport::default();
    report
        .checks
        .push(archon_plugin_api::conformance::CheckOutcome {
            name: "loads with matching ABI and versions".into(),
            passed: true,
            detail: format!(
                "plugin-api {}, tch {}, libtorch {}",
                p.built_against.plugin_api, p.built_against.tch, p.built_against.libtorch
            ),
        });
    for kind in &p.kinds {
        match kind {
            PluginKind::Tuner => {
                let new_tuner = p.module().new_tuner();
                let tuner_report = check_tuner(&|options: &str| {
                    new_tuner(options.into())
                        .into_result()
                        .map(TunerClient::from_box)
                });
                report.checks.extend(tuner_report.checks);
            }
            PluginKind::OneShotTrainer => {
                let new_trainer = p.module().new_one_shot_trainer().ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: says it is a one-shot trainer but has no constructor (built against an older plugin-api?)",
                        p.name
                    )
                })?;
                let trainer_report = check_trainer(&|options: &str| {
                    new_trainer(options.into())
                        .into_result()
                        .map(OneShotClient::from_box)
                });
                report.checks.extend(trainer_report.checks);
            }
            other => println!("(no conformance checks for {} plugins yet)", other.as_str()),
        }
    }
    println!("{report}");
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
