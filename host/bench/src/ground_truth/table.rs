//! A ground-truth table: JSON Lines, a header line (the space, its options, the
//! training budget, the command that made it), then one line per architecture and
//! training seed. Appended to as trainings finish, so a killed run keeps every
//! finished line and a resumed one skips them.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, HashSet},
    io::Write,
    path::Path,
};

/// The format tag of the header line.
pub const FORMAT: &str = "archon-ground-truth/1";

/// How every architecture of a table is trained and evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// The dataset (`archon train --dataset`).
    pub dataset: String,
    /// Training examples (a seeded subset of the training split).
    pub train_subset: usize,
    /// Validation examples: held out from the training split, disjoint from the above.
    pub valid_subset: usize,
    /// Test examples (a seeded subset of the test split).
    pub test_subset: usize,
    /// Epochs.
    pub epochs: usize,
    /// Initial learning rate (cosine to 0; SGD 0.9, weight decay 3e-4, clip 5).
    pub lr: f64,
    /// Batch size.
    pub batch_size: i64,
    /// Seed of the data subsets (the same for every architecture and training seed).
    pub data_seed: u64,
    /// Whether training batches are augmented (random crop with 2-pixel padding and
    /// horizontal flip), as `archon train` does.
    #[serde(default = "yes")]
    pub augment: bool,
}

fn yes() -> bool {
    true
}

/// The first line of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The hub space.
    pub space: String,
    /// Its options.
    pub options: serde_json::Map<String, serde_json::Value>,
    /// The budget.
    pub budget: Budget,
    /// The command line that made the table (reruns it, resuming).
    pub command: String,
}

/// One epoch of one training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// Mean training loss.
    pub loss: f64,
    /// Validation accuracy.
    pub valid: f64,
    /// Test accuracy.
    pub test: f64,
}

/// One architecture trained with one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// A short unique name of the architecture (NAS-Bench-201: its arch string).
    pub key: String,
    /// The architecture, NNI format.
    pub arch: serde_json::Value,
    /// The training seed.
    pub seed: u64,
    /// Parameters.
    pub params: u64,
    /// Multiply-adds per example.
    pub flops: u64,
    /// Whether every operation it uses is parameter-free (by candidate role).
    pub param_free: bool,
    /// Per epoch.
    pub epochs: Vec<EpochRow>,
    /// Wall-clock seconds of the training (evaluation included).
    pub seconds: f64,
}

impl Row {
    /// Final validation accuracy.
    pub fn valid(&self) -> f64 {
        self.epochs.last().map_or(0.0, |e| e.valid)
    }
    /// Final test accuracy.
    pub fn test(&self) -> f64 {
        self.epochs.last().map_or(0.0, |e| e.test)
    }
}

/// One architecture with its results over seeds.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its key.
    pub key: String,
    /// Its architecture (NNI format).
    pub arch: serde_json::Value,
    /// Parameters.
    pub params: u64,
    /// Multiply-adds per example.
    pub flops: u64,
    /// Whether it is made of parameter-free operations only.
    pub param_free: bool,
    /// Final (validation, test) accuracy per training seed.
    pub by_seed: BTreeMap<u64, (f64, f64)>,
    /// Mean training seconds.
    pub seconds: f64,
}

impl Entry {
    /// Mean final test accuracy over seeds.
    pub fn test(&self) -> f64 {
        mean(self.by_seed.values().map(|v| v.1))
    }
    /// Mean final validation accuracy over seeds.
    pub fn valid(&self) -> f64 {
        mean(self.by_seed.values().map(|v| v.0))
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// A table read from its file.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its header.
    pub header: Header,
    /// Its rows, in file order.
    pub rows: Vec<Row>,
}

impl Table {
    /// Reads `path`. A last line cut short by a kill is ignored (with a warning); any
    /// other bad line is an error naming its number.
    pub fn load(path: &Path) -> Result<Table> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the ground-truth table {}", path.display()))?;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            bail!("{}: empty, not a ground-truth table", path.display());
        };
        let header: Header = serde_json::from_str(first).with_context(|| {
            format!(
                "{} line 1: not a ground-truth table header ({FORMAT})",
                path.display()
            )
        })?;
        if header.format != FORMAT {
            bail!(
                "{} line 1: format {:?}, this archon reads {FORMAT:?}",
                path.display(),
                header.format
            );
        }
        let complete = text.ends_with('\n');
        let lines: Vec<(usize, &str)> = lines.collect();
        let mut rows = Vec::with_capacity(lines.len());
        for (i, (number, line)) in lines.iter().enumerate() {
            match serde_json::from_str::<Row>(line) {
                Ok(row) => rows.push(row),
                Err(_) if i + 1 == lines.len() && !complete => {
                    tracing::warn!(
                        "{} line {}: cut short (a killed run); ignored",
                        path.display(),
                        number + 1
                    );
                }
                Err(e) => bail!(
                    "{} line {}: not a table row: {e}",
                    path.display(),
                    number + 1
                ),
            }
        }
        Ok(Table { header, rows })
    }

    /// The (key, seed) pairs already trained.
    pub fn done(&self) -> HashSet<(String, u64)> {
        self.rows.iter().map(|r| (r.key.clone(), r.seed)).collect()
    }

    /// The mean wall-clock seconds of one training (one architecture, one seed).
    pub fn seconds_per_training(&self) -> f64 {
        self.rows.iter().map(|r| r.seconds).sum::<f64>() / self.rows.len().max(1) as f64
    }

    /// The architectures, each with its seeds, in order of first appearance.
    pub fn entries(&self) -> Vec<Entry> {
        let mut order: Vec<String> = Vec::new();
        let mut map: BTreeMap<String, (Entry, f64)> = BTreeMap::new();
        for row in &self.rows {
            let (entry, total_seconds) = map.entry(row.key.clone()).or_insert_with(|| {
                order.push(row.key.clone());
                (
                    Entry {
                        key: row.key.clone(),
                        arch: row.arch.clone(),
                        params: row.params,
                        flops: row.flops,
                        param_free: row.param_free,
                        by_seed: BTreeMap::new(),
                        seconds: 0.0,
                    },
                    0.0,
                )
            });
            entry.by_seed.insert(row.seed, (row.valid(), row.test()));
            *total_seconds += row.seconds;
            entry.seconds = *total_seconds / entry.by_seed.len() as f64;
        }
        order
            .into_iter()
            .filter_map(|k| map.remove(&k).map(|(e, _)| e))
            .collect()
    }

    /// The training seeds present, ascending.
    pub fn seeds(&self) -> Vec<u64> {
        let mut seeds: Vec<u64> = self.rows.iter().map(|r| r.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        seeds
    }
}

/// Opens `path` for appending rows: creates it with `header`, or checks that the
/// existing table was made for the same space, options and budget (resuming).
/// Returns what it already holds.
pub fn open_for_append(path: &Path, header: &Header) -> Result<Table> {
    if !path.exists() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        writeln!(file, "{}", serde_json::to_string(header)?)?;
        file.sync_all()?;
        return Ok(Table {
            header: header.clone(),
            rows: Vec::new(),
        });
    }
    let table = Table::load(path)?;
    let old = &table.header;
    let differ = |what: &str, was: String, now: String| {
        anyhow::anyhow!(
            "{} was made for {what} {was}, this command asks for {now}: give another --out, \
             or the table's own budget (its first line; its command was: {})",
            path.display(),
            old.command
        )
    };
    if old.space != header.space {
        return Err(differ("space", old.space.clone(), header.space.clone()));
    }
    if old.options != header.options {
        return Err(differ(
            "space options",
            serde_json::Value::Object(old.options.clone()).to_string(),
            serde_json::Value::Object(header.options.clone()).to_string(),
        ));
    }
    if old.budget != header.budget {
        return Err(differ(
            "the budget",
            serde_json::to_string(&old.budget)?,
            serde_json::to_string(&header.budget)?,
        ));
    }
    // A line cut short by a kill is dropped from the file before appending after it.
    let text = std::fs::read_to_string(path)?;
    if !text.ends_with('\n') {
        let keep = text.rfind('\n').map_or(0, |i| i + 1);
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(keep as u64)?;
        file.sync_all()?;
    }
    Ok(table)
}

/// Appends one row and syncs it to disk.
pub fn append(path: &Path, row: &Row) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("appending to {}", path.display()))?;
    writeln!(file, "{}", serde_json::to_string(row)?)?;
    file.sync_data()?;
    Ok(())
}
