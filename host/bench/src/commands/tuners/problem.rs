//! What `bench tuners` runs the tuners on: a ground-truth table (trials looked up) or
//! a test function (`fn:NAME`, trials computed), each as the `[space]` and `[trial]`
//! of the experiments it makes.

use crate::ground_truth::table::{Entry, Table};
use anyhow::{bail, Context, Result};
use archon_experiment::service::function::Function;
use std::path::PathBuf;

/// One problem of `--table`.
pub enum Problem {
    /// A ground-truth table.
    Table {
        /// Its path (canonical).
        path: PathBuf,
        /// As written on the command line.
        label: String,
        /// Its contents.
        table: Box<Table>,
        /// Its architectures with their results over seeds (computed once).
        entries: Vec<Entry>,
    },
    /// A test function.
    Function(&'static Function),
}

impl Problem {
    /// A `--table` item: `fn:NAME` or a table's path.
    pub fn parse(item: &str) -> Result<Problem> {
        if let Some(name) = item.strip_prefix("fn:") {
            return Ok(Problem::Function(
                Function::named(name).with_context(|| format!("--table {item}"))?,
            ));
        }
        let path = PathBuf::from(item)
            .canonicalize()
            .with_context(|| format!("--table {item}"))?;
        let table = Table::load(&path).with_context(|| {
            format!("{item}: bench tuners reads the space from a ground-truth table's header")
        })?;
        Ok(Problem::Table {
            path,
            label: item.to_string(),
            entries: table.entries(),
            table: Box::new(table),
        })
    }

    /// As written on the command line.
    pub fn label(&self) -> String {
        match self {
            Problem::Table { label, .. } => label.clone(),
            Problem::Function(f) => format!("fn:{}", f.name),
        }
    }

    /// A table's architectures (none for a function).
    pub fn entries(&self) -> &[Entry] {
        match self {
            Problem::Table { entries, .. } => entries,
            Problem::Function(_) => &[],
        }
    }

    /// The cost of one full trial: a table's epochs; 1 for a function.
    pub fn full_budget(&self) -> f64 {
        match self {
            Problem::Table { table, .. } => table.header.budget.epochs as f64,
            Problem::Function(_) => 1.0,
        }
    }

    /// What a cost is counted in: a table's epochs, a function's trials.
    pub fn cost_unit(&self) -> &'static str {
        match self {
            Problem::Table { .. } => "epochs",
            Problem::Function(_) => "trials",
        }
    }

    /// The best value a trial can report under `metric`.
    pub fn optimum(&self, metric: &str) -> Result<f64> {
        match self {
            Problem::Function(f) => Ok(-f.minimum),
            Problem::Table { .. } => {
                let entries = self.entries();
                Ok(match metric {
                    "test" => entries.iter().map(|e| e.test()).fold(f64::MIN, f64::max),
                    "valid" => entries.iter().map(|e| e.valid()).fold(f64::MIN, f64::max),
                    other => {
                        bail!(
                            "--metric {other:?}: a ground-truth table's metrics are valid and test"
                        )
                    }
                })
            }
        }
    }

    /// What it is, for the report's first line.
    pub fn describe(&self, metric: &str, optimum: f64) -> String {
        match self {
            Problem::Table { .. } => format!(
                "{} ({} architectures, optimum {optimum:.4} by {metric})",
                self.label(),
                self.entries().len()
            ),
            Problem::Function(f) => format!(
                "{} ({} numbers; value −f, optimum {optimum:.4})",
                self.label(),
                f.domain.len()
            ),
        }
    }

    /// The experiments' `[space]` and `[trial]` sections.
    pub fn sections(&self, metric: &str) -> Result<(toml::Table, toml::Table)> {
        let mut space = toml::Table::new();
        let mut trial = toml::Table::new();
        match self {
            Problem::Table { path, table, .. } => {
                let options =
                    toml::Value::try_from(serde_json::Value::Object(table.header.options.clone()))
                        .context("the table's space options")?;
                space.insert("builtin".into(), table.header.space.clone().into());
                space.insert("options".into(), options);
                trial.insert("table".into(), path.display().to_string().into());
                trial.insert("metric".into(), metric.into());
            }
            Problem::Function(f) => {
                space.insert("json".into(), f.space().to_string().into());
                trial.insert("function".into(), f.name.into());
            }
        }
        Ok((space, trial))
    }
}
