//! The table look-up service (`trial.table = "FILE"`, `trial.metric = "COLUMN"`):
//! each trial is answered from a table of already-measured architectures instead of
//! training, in-process. The table is CSV with a header row or JSON Lines, with one
//! column per choice label holding the candidate's value as the space writes it
//! (`"gcn"`, `3`, `0.5`); every other column is a metric and all are reported, the
//! `metric` column as the trial's value. A ground-truth table of `archon bench
//! ground-truth` is read as it is (metrics `test`, `valid`, `train_loss`, `tse`: means
//! over seeds, per epoch as `NAME@e`; `params`, `flops`). Per-budget columns
//! `NAME@b` are reported as `NAME` by a trial at budget b, and no other budget's are;
//! `tse@e` is derived from `train_loss@1..=e` where a table has those and not it. An
//! architecture the table lacks is a failed trial saying so.

use super::{answer_in_process, Event, TrainingService, TrialSpec};
use anyhow::{bail, Context, Result};
use archon_store::protocol::MetricLine;
use serde_json::{Map, Value};
use std::{collections::HashMap, path::Path, sync::Arc};
use tokio::sync::{mpsc, watch};

/// A ground-truth architecture being gathered: its first line, its record, and per
/// seed each epoch's (validation accuracy, test accuracy, training loss).
type GroundTruthRow = (usize, Map<String, Value>, Vec<Vec<(f64, f64, f64)>>);

/// A loaded table: rows by the values of the space's labels.
#[derive(Debug)]
pub struct Lookup {
    labels: Vec<String>,
    rows: HashMap<Vec<String>, Map<String, Value>>,
    metric: String,
}

/// How a value is compared: strings as they are, numbers in their shortest form.
fn canonical(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |f| format!("{f}")),
        other => other.to_string(),
    }
}

/// A CSV field as JSON: a number if it parses as one, else the text.
fn csv_value(field: &str) -> Value {
    let t = field.trim();
    t.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| Value::String(t.to_string()), Value::Number)
}

/// The delimiter of a CSV table: a tab or a semicolon when the header has one and no
/// comma, else a comma.
fn delimiter(header: &str) -> u8 {
    if header.contains(',') {
        b','
    } else if header.contains('\t') {
        b'\t'
    } else if header.contains(';') {
        b';'
    } else {
        b','
    }
}

/// The records of a CSV table (RFC 4180 quoting, the delimiter detected from the
/// header line), with their lines; duplicate columns are refused naming them.
fn csv_records(
    text: &str,
    header_line: &str,
    path: &Path,
) -> Result<Vec<(usize, Map<String, Value>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(header_line))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{} line 1: not a CSV header", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
        bail!(
            "{} line 1: the column {dup:?} appears twice; each column must be named once",
            path.display()
        );
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths { pos, len, .. } => anyhow::anyhow!(
                "{} line {}: {len} fields, the header has {}",
                path.display(),
                pos.as_ref().map_or(0, csv::Position::line),
                header.len()
            ),
            _ => anyhow::anyhow!("{}: {e}", path.display()),
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        out.push((
            line,
            header
                .iter()
                .cloned()
                .zip(record.iter().map(csv_value))
                .collect(),
        ));
    }
    Ok(out)
}

impl Lookup {
    /// Loads `path` for a space with `labels`, answering with column `metric`.
    pub fn load(path: &Path, labels: &[String], metric: &str) -> Result<Lookup> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the trial table {}", path.display()))?;
        let records = Self::records(&text, path)?;
        let mut rows = HashMap::new();
        for (line, mut record) in records {
            add_tse(&mut record);
            let mut key = Vec::with_capacity(labels.len());
            for label in labels {
                let v = record.remove(label).with_context(|| {
                    format!(
                        "{} line {line}: no column {label:?} (the table needs one column per choice label of the space)",
                        path.display()
                    )
                })?;
                key.push(canonical(&v));
            }
            if !record.contains_key(metric) {
                bail!(
                    "{} line {line}: no metric column {metric:?} (trial.metric); its columns are: {}",
                    path.display(),
                    if record.is_empty() {
                        "none but the choice labels".to_string()
                    } else {
                        record.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                );
            }
            if let Some((earlier, _)) = rows.get(&key) {
                bail!(
                    "{} lines {earlier} and {line}: the same architecture twice ({}); keep one row per architecture",
                    path.display(),
                    labels
                        .iter()
                        .zip(&key)
                        .map(|(l, v)| format!("{l}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            rows.insert(key, (line, record));
        }
        if rows.is_empty() {
            bail!("{}: the trial table has no rows", path.display());
        }
        Ok(Lookup {
            labels: labels.to_vec(),
            rows: rows.into_iter().map(|(k, (_, r))| (k, r)).collect(),
            metric: metric.to_string(),
        })
    }

    /// Whether every row has the metric column `name`.
    pub fn has_column(&self, name: &str) -> bool {
        self.rows.values().all(|r| r.contains_key(name))
    }

    /// The metric columns of the first row.
    pub fn columns(&self) -> Vec<String> {
        self.rows
            .values()
            .next()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The records of a CSV, JSON Lines or ground-truth table, with their lines.
    fn records(text: &str, path: &Path) -> Result<Vec<(usize, Map<String, Value>)>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let first = text.lines().next().unwrap_or_default().trim_start();
        if !first.starts_with('{') {
            return csv_records(text, first, path);
        }
        let mut out = Vec::new();
        let mut ground_truth: HashMap<String, GroundTruthRow> = HashMap::new();
        let mut order = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .with_context(|| format!("{} line {}: not JSON", path.display(), i + 1))?;
            let Value::Object(obj) = v else {
                bail!("{} line {}: not a JSON object", path.display(), i + 1);
            };
            if i == 0 && obj.get("format").and_then(Value::as_str) == Some("archon-ground-truth/1")
            {
                continue;
            }
            if let (Some(key), Some(Value::Object(arch))) = (obj.get("key"), obj.get("arch")) {
                // A ground-truth row: one training of one seed.
                let key = canonical(key);
                let curve: Vec<(f64, f64, f64)> = obj["epochs"]
                    .as_array()
                    .map(|epochs| {
                        epochs
                            .iter()
                            .map(|e| {
                                (
                                    e["valid"].as_f64().unwrap_or(f64::NAN),
                                    e["test"].as_f64().unwrap_or(f64::NAN),
                                    e["loss"].as_f64().unwrap_or(f64::NAN),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let entry = ground_truth.entry(key.clone()).or_insert_with(|| {
                    order.push(key.clone());
                    let mut record: Map<String, Value> = arch
                        .iter()
                        .map(|(label, v)| {
                            (
                                label.clone(),
                                v.get("_value").cloned().unwrap_or(Value::Null),
                            )
                        })
                        .collect();
                    for m in ["params", "flops"] {
                        record.insert(m.into(), obj.get(m).cloned().unwrap_or(Value::Null));
                    }
                    (i + 1, record, Vec::new())
                });
                entry.2.push(curve);
                continue;
            }
            out.push((i + 1, obj));
        }
        for key in order {
            let (line, mut record, seeds) = ground_truth.remove(&key).expect("recorded above");
            // Means over seeds, each epoch e as `valid@e`, `test@e`, `train_loss@e` and
            // `tse@e` (the sum of the training losses of epochs 1..=e): the fidelities
            // multi-fidelity tuners ask for; the last epoch's also without `@e`.
            let epochs = seeds.iter().map(Vec::len).min().unwrap_or(0);
            let mean = |e: usize, f: fn(&(f64, f64, f64)) -> f64| {
                seeds.iter().map(|c| f(&c[e])).sum::<f64>() / seeds.len() as f64
            };
            let mut tse = 0.0;
            for e in 0..epochs {
                tse += mean(e, |s| s.2);
                let at = |name: &str| format!("{name}@{}", e + 1);
                record.insert(at("valid"), Value::from(mean(e, |s| s.0)));
                record.insert(at("test"), Value::from(mean(e, |s| s.1)));
                record.insert(at("train_loss"), Value::from(mean(e, |s| s.2)));
                record.insert(at("tse"), Value::from(tse));
            }
            for name in ["valid", "test", "train_loss", "tse"] {
                let last = record
                    .get(&format!("{name}@{epochs}"))
                    .cloned()
                    .unwrap_or(Value::from(f64::NAN));
                record.insert(name.into(), last);
            }
            out.push((line, record));
        }
        Ok(out)
    }

    /// The answer for trial parameters (NNI format: per label `{"_value": …}` or the
    /// value itself) at `budget` (column `METRIC@BUDGET`; without a budget, the metric
    /// column): the metric line, or why there is none.
    pub fn answer(&self, parameters: &str, budget: Option<f64>) -> Result<MetricLine, String> {
        let params: Value = serde_json::from_str(parameters)
            .map_err(|e| format!("trial parameters are not JSON: {e}"))?;
        let mut key = Vec::with_capacity(self.labels.len());
        for label in &self.labels {
            let v = params
                .get(label)
                .ok_or_else(|| format!("trial parameters have no {label:?}"))?;
            key.push(canonical(v.get("_value").unwrap_or(v)));
        }
        let Some(row) = self.rows.get(&key) else {
            let shown: Vec<String> = self
                .labels
                .iter()
                .zip(&key)
                .map(|(l, v)| format!("{l}={v}"))
                .collect();
            return Err(format!(
                "the trial table has no row for {}",
                shown.join(", ")
            ));
        };
        let column = match budget {
            Some(b) => format!("{}@{b}", self.metric),
            None => self.metric.clone(),
        };
        let value = row
            .get(&column)
            .ok_or_else(|| {
                format!(
                    "the trial table has no column {column:?} for budget {}; a multi-fidelity tuner needs one column per budget",
                    budget.unwrap_or_default()
                )
            })?
            .as_f64()
            .filter(|v| !v.is_nan())
            .ok_or_else(|| format!("column {column:?} is not a number in this row"))?;
        let mut raw = match budget {
            Some(b) => at_budget(row, b),
            None => row.clone(),
        };
        raw.insert("default".into(), Value::from(value));
        raw.insert("final".into(), Value::Bool(true));
        Ok(MetricLine {
            value,
            raw: Value::Object(raw).to_string(),
            is_final: true,
        })
    }
}

/// A table with per-epoch training losses (`train_loss@1`, `train_loss@2`, …) and no
/// `tse@e` columns gets them: `tse@e`, the sum of `train_loss@1..=e`, for every e up to
/// the first missing epoch (what `promote_by = "tse"` ranks by).
fn add_tse(record: &mut Map<String, Value>) {
    if record.contains_key("tse@1") {
        return;
    }
    let mut sum = 0.0;
    for e in 1.. {
        let Some(loss) = record
            .get(&format!("train_loss@{e}"))
            .and_then(Value::as_f64)
        else {
            break;
        };
        sum += loss;
        record.insert(format!("tse@{e}"), Value::from(sum));
    }
}

/// What a trial at `budget` reports: `NAME@BUDGET` as `NAME`, and no other budget's
/// columns (nor the full budget's `NAME`): a look-up at a low fidelity must not tell
/// the tuner what the higher ones hold.
fn at_budget(row: &Map<String, Value>, budget: f64) -> Map<String, Value> {
    let suffix = format!("@{budget}");
    let per_budget: std::collections::HashSet<&str> = row
        .keys()
        .filter_map(|k| k.split_once('@').map(|(name, _)| name))
        .collect();
    let mut out = Map::new();
    for (k, v) in row {
        if let Some(name) = k.strip_suffix(&suffix) {
            out.insert(name.to_string(), v.clone());
        } else if !k.contains('@') && !per_budget.contains(k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Answers every attempt from a [`Lookup`].
pub struct TableService {
    lookup: Arc<Lookup>,
}

impl TableService {
    /// A service over `lookup`.
    pub fn new(lookup: Lookup) -> Self {
        TableService {
            lookup: Arc::new(lookup),
        }
    }
}

impl TrainingService for TableService {
    fn launch(
        &self,
        spec: TrialSpec,
        events: mpsc::UnboundedSender<Event>,
        _stop: watch::Receiver<bool>,
    ) {
        let budget = spec
            .env
            .iter()
            .find(|(k, _)| k == "ARCHON_BUDGET")
            .and_then(|(_, v)| v.parse::<f64>().ok());
        let answer = self.lookup.answer(&spec.parameters, budget);
        answer_in_process(&spec, answer, &events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_budget_reports_its_own_columns_only() {
        let r = row(
            r#"{"acc@1": 0.5, "acc@3": 0.7, "acc": 0.7, "tse@1": 2.0, "tse@3": 5.0, "params": 9}"#,
        );
        let at1 = at_budget(&r, 1.0);
        assert_eq!(at1, row(r#"{"acc": 0.5, "tse": 2.0, "params": 9}"#));
        assert_eq!(at_budget(&r, 3.0)["acc"], 0.7);
    }

    #[test]
    fn tse_is_the_running_sum_of_consecutive_training_losses() {
        let mut r = row(r#"{"train_loss@1": 2.0, "train_loss@2": 1.5, "train_loss@4": 1.0}"#);
        add_tse(&mut r);
        assert_eq!(r["tse@1"], 2.0);
        assert_eq!(r["tse@2"], 3.5);
        assert!(!r.contains_key("tse@4"), "epoch 3 is missing: no sum at 4");
        // A table's own tse columns are kept as they are.
        let mut r = row(r#"{"train_loss@1": 2.0, "tse@1": 7.0}"#);
        add_tse(&mut r);
        assert_eq!(r["tse@1"], 7.0);
    }
}
