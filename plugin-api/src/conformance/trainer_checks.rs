//! The one-shot trainer checks, on the [`ToySupernet`].

use super::{report::ConformanceReport, toy_supernet::ToySupernet};
use crate::{
    error::{ErrorKind, PluginError, Result},
    one_shot::{OneShotClient, Report},
    space::Architecture,
};
use std::collections::BTreeMap;

/// Creates a trainer from options given as JSON text (a loaded plugin's
/// `new_one_shot_trainer`, or [`OneShotClient::in_process`]).
pub type TrainerFactory<'a> = dyn Fn(&str) -> Result<OneShotClient> + 'a;

fn show(what: &str, e: PluginError) -> String {
    if e.kind() == ErrorKind::Panic {
        format!("{what}: PANIC: {}", e.message())
    } else {
        format!("{what}: {e}")
    }
}

/// What a search on the toy supernet produced.
pub struct ToyRun {
    /// The toy supernet after the search (its `reports` hold what the trainer said).
    pub host: ToySupernet,
    /// The exported architecture.
    pub exported: serde_json::Value,
}

/// Runs a trainer made with `options` (JSON text) for `epochs` × `steps` on a toy
/// supernet seeded with `seed`. Errors are texts naming the call that failed.
pub fn toy_search(
    factory: &TrainerFactory<'_>,
    options: &str,
    (epochs, steps): (usize, usize),
    seed: u64,
) -> std::result::Result<ToyRun, String> {
    let mut trainer = factory(options).map_err(|e| show("creating the trainer", e))?;
    let mut host = ToySupernet::new(epochs, steps, seed).map_err(|e| show("toy supernet", e))?;
    trainer.begin(&mut host).map_err(|e| show("begin", e))?;
    for epoch in 0..epochs {
        trainer
            .epoch(&mut host, epoch)
            .map_err(|e| show(&format!("epoch {epoch}"), e))?;
    }
    let exported = trainer.export(&mut host).map_err(|e| show("export", e))?;
    Ok(ToyRun { host, exported })
}

fn epoch_weights(host: &ToySupernet) -> Vec<BTreeMap<String, Vec<f64>>> {
    host.reports
        .iter()
        .filter_map(|r| match r {
            Report::Epoch { arch_weights, .. } => Some(arch_weights.clone()),
            _ => None,
        })
        .collect()
}

/// A trainer saved after one epoch and restored into a new one saves the same state,
/// then searches on and exports a valid architecture.
fn state_round_trip(factory: &TrainerFactory<'_>) -> std::result::Result<String, String> {
    let options = r#"{"seed": 1}"#;
    let mut host = ToySupernet::new(2, 2, 1).map_err(|e| show("toy supernet", e))?;
    let mut first = factory(options).map_err(|e| show("creating the trainer", e))?;
    first.begin(&mut host).map_err(|e| show("begin", e))?;
    first.epoch(&mut host, 0).map_err(|e| show("epoch 0", e))?;
    let saved = first.save_state().map_err(|e| show("save_state", e))?;
    let mut second = factory(options).map_err(|e| show("creating the trainer", e))?;
    second
        .load_state(&mut host, &saved)
        .map_err(|e| show("load_state", e))?;
    let again = second
        .save_state()
        .map_err(|e| show("save_state after load_state", e))?;
    if again != saved {
        return Err(format!(
            "the restored trainer saves a different state:\n{saved}\n{again}"
        ));
    }
    second
        .epoch(&mut host, 1)
        .map_err(|e| show("epoch 1 after load_state", e))?;
    let exported = second.export(&mut host).map_err(|e| show("export", e))?;
    let space = host.search_space().map_err(|e| show("space", e))?;
    Architecture::from_json(&space, &exported)
        .map(|_| format!("{} bytes of state", saved.to_string().len()))
        .map_err(|e| format!("{exported} is invalid: {}", e.message()))
}

/// The same search as `plain` on the toy supernet with its operations renamed (a
/// third-party space's names, the same roles) must make the same decisions: equal
/// architecture weights every epoch and the same exported indices.
fn renamed_search(
    factory: &TrainerFactory<'_>,
    plain: &ToyRun,
) -> std::result::Result<String, String> {
    let names = ["op_a", "op_b", "op_c"];
    let mut trainer = factory(r#"{"seed": 1}"#).map_err(|e| show("creating the trainer", e))?;
    let mut host = ToySupernet::renamed(1, 2, 2, 1, names).map_err(|e| show("toy supernet", e))?;
    trainer.begin(&mut host).map_err(|e| show("begin", e))?;
    for epoch in 0..2 {
        trainer
            .epoch(&mut host, epoch)
            .map_err(|e| show(&format!("epoch {epoch}"), e))?;
    }
    let exported = trainer.export(&mut host).map_err(|e| show("export", e))?;
    if epoch_weights(&host) != epoch_weights(&plain.host) {
        return Err(format!(
            "the architecture weights differ once the operations are renamed: {:?} vs {:?}",
            epoch_weights(&host).last(),
            epoch_weights(&plain.host).last()
        ));
    }
    let labels = plain
        .exported
        .as_object()
        .map(|m| m.keys().count())
        .unwrap_or(0);
    for (label, entry) in plain.exported.as_object().into_iter().flatten() {
        if exported.get(label).map(|e| &e["_idx"]) != Some(&entry["_idx"]) {
            return Err(format!(
                "renamed operations {names:?} change the export: {exported} vs {}",
                plain.exported
            ));
        }
    }
    Ok(format!("same weights and export for {labels} decisions"))
}

/// Runs every trainer check against trainers made by `factory`: 2 epochs of 2 steps
/// on the toy supernet. Trainers must accept a `"seed"` option and save their state.
pub fn check_trainer(factory: &TrainerFactory<'_>) -> ConformanceReport {
    let mut report = ConformanceReport::default();
    let run = toy_search(factory, r#"{"seed": 1}"#, (2, 2), 1);
    report.record(
        "searches a tiny supernet (2 epochs × 2 steps)",
        run.as_ref()
            .map(|r| format!("{} reports", r.host.reports.len()))
            .map_err(Clone::clone),
    );
    report.record(
        "reports every epoch with architecture weights",
        run.as_ref().map_err(Clone::clone).and_then(|r| {
            let weights = epoch_weights(&r.host);
            let steps = r
                .host
                .reports
                .iter()
                .filter(|x| matches!(x, Report::Step { .. }))
                .count();
            if weights.len() != 2 {
                Err(format!("{} epoch reports for 2 epochs", weights.len()))
            } else if weights.iter().any(BTreeMap::is_empty) {
                Err("an epoch report has no architecture weights".into())
            } else if steps == 0 {
                Err("no step reports".into())
            } else {
                Ok(format!(
                    "{steps} step reports, weights for {} decisions",
                    weights[0].len()
                ))
            }
        }),
    );
    report.record(
        "changes the architecture weights",
        run.as_ref().map_err(Clone::clone).and_then(|r| {
            let weights = epoch_weights(&r.host);
            let (Some(first), Some(last)) = (weights.first(), weights.last()) else {
                return Err("no epoch reports".into());
            };
            let uniform = |w: &BTreeMap<String, Vec<f64>>| {
                w.values()
                    .all(|p| p.iter().all(|&x| (x - 1.0 / p.len() as f64).abs() < 1e-6))
            };
            if first == last && uniform(last) {
                Err(format!("weights stayed uniform: {last:?}"))
            } else {
                Ok(format!("{last:?}"))
            }
        }),
    );
    report.record(
        "exports a valid architecture",
        run.as_ref().map_err(Clone::clone).and_then(|r| {
            let space = r.host.search_space().map_err(|e| show("space", e))?;
            Architecture::from_json(&space, &r.exported)
                .map(|_| r.exported.to_string())
                .map_err(|e| format!("{} is invalid: {}", r.exported, e.message()))
        }),
    );
    report.record(
        "decides by role, not by name (renamed operations)",
        run.as_ref()
            .map_err(Clone::clone)
            .and_then(|r| renamed_search(factory, r)),
    );
    report.record("saves and restores its state", state_round_trip(factory));
    report.record(
        "errors, not panics, on bad options",
        ["{\"no_such_option\": 1}", "[1, 2]", "not json"]
            .iter()
            .map(|options| match factory(options) {
                Ok(_) => Err(format!("options {options} were accepted")),
                Err(e) if e.kind() == ErrorKind::Panic => Err(show(options, e)),
                Err(_) => Ok(()),
            })
            .collect::<std::result::Result<Vec<()>, String>>()
            .map(|_| "3 bad option sets refused".to_string()),
    );
    report
}
