//! NNI's export shapes (`nnictl experiment export ID --type json|csv --filename F
//! [--intermediate]`), so that the scripts and notebooks that read NNI's exports read
//! archon's unchanged.
//!
//! As NNI's manager does, every trial that succeeded with a result is one record:
//! `{"parameter": {...}, "value": "<the metric as JSON text>", "trialJobId": "..."}`
//! — `parameter` in the form the trial received (NNI's HPO form: plain values,
//! `{"_name": ...}` for nested choices), `value` the reported number or dict *as a JSON
//! string* (NNI stores metrics as text), and with `--intermediate` every result the
//! trial reported, in order (the final one last, as nnictl lists NNI's metric data),
//! as a list of such strings. The CSV has one row per record: the parameters,
//! then the metric's keys (a dict) or `reward` (a number), `trialJobId` and, with
//! `--intermediate`, `intermediate` as `[a,b,...]`.

use crate::config::ExperimentConfig;
use anyhow::{bail, Result};
use archon_store::{Store, TrialStatus};
use serde_json::{Map, Value};
use std::path::Path;

/// Which of NNI's two export files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NniExportType {
    /// A JSON list of records.
    Json,
    /// A CSV table.
    Csv,
}

impl NniExportType {
    /// `json` or `csv`, as nnictl's `--type`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "json" => Ok(NniExportType::Json),
            "csv" => Ok(NniExportType::Csv),
            other => bail!("--type {other:?}: NNI's export types are json and csv"),
        }
    }
}

/// One exported trial.
#[derive(Debug, Clone, PartialEq)]
pub struct NniRecord {
    /// The parameters the trial received (NNI's HPO form).
    pub parameter: Value,
    /// Its final result as NNI stores it: JSON text of a number or a dict.
    pub value: String,
    /// The trial's id.
    pub trial_job_id: String,
    /// Its intermediate results, each as JSON text (with `--intermediate`).
    pub intermediate: Option<Vec<String>>,
}

/// Every trial of the experiment in `dir` (its store open in `store`) that succeeded
/// with a result, in trial order — what NNI's manager exports.
pub fn records(store: &Store, dir: &Path, intermediate: bool) -> Result<Vec<NniRecord>> {
    if store.is_one_shot()? {
        bail!(
            "a one-shot search has no trials to export in NNI's shape; \
             `archon experiment export ID` (without --type) prints its architecture"
        );
    }
    let cfg = ExperimentConfig::parse(&store.config_text()?, Path::new("experiment.toml"))?;
    let space: Option<Value> = std::fs::read_to_string(dir.join("search_space.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let mut out = Vec::new();
    for trial in store.trials()? {
        if trial.status != TrialStatus::Succeeded {
            continue;
        }
        // The attempt that succeeded; its final result is the last line marked final,
        // else its last line (archon's own protocol).
        let metrics = store.metrics_of_attempt(trial.id, trial.attempts)?;
        let final_at = metrics
            .iter()
            .rposition(|m| m.is_final)
            .or_else(|| metrics.len().checked_sub(1));
        let Some(final_at) = final_at else { continue };
        let parameters: Value = serde_json::from_str(&trial.parameters).unwrap_or(Value::Null);
        out.push(NniRecord {
            parameter: received_parameters(
                &parameters,
                space.as_ref(),
                cfg.trial.batch,
                &store.trial_info(trial.id)?,
            ),
            value: reported_value(&metrics[final_at].raw),
            trial_job_id: trial.id.to_string(),
            // NNI's metric data, every line in order (the final one last).
            intermediate: intermediate
                .then(|| metrics.iter().map(|m| reported_value(&m.raw)).collect()),
        });
    }
    Ok(out)
}

/// The parameters as the trial received them from the `nni` module: NNI's HPO form,
/// a BatchTuner's set itself, `TRIAL_BUDGET` under Hyperband and BOHB, PBT's
/// checkpoint folders.
fn received_parameters(raw: &Value, space: Option<&Value>, batch: bool, info: &Value) -> Value {
    let mut parameters = to_hpo_parameters(raw, space);
    if batch {
        if let Some(set) = parameters.as_object().filter(|m| m.len() == 1) {
            parameters = set.values().next().cloned().unwrap_or_default();
        }
    }
    if let Value::Object(map) = &mut parameters {
        if let Some(budget) = info["budget"].as_f64() {
            let budget = if budget.fract() == 0.0 && budget.abs() < 9e15 {
                Value::from(budget as i64)
            } else {
                Value::from(budget)
            };
            map.insert("TRIAL_BUDGET".into(), budget);
        }
        for (key, field) in [
            ("load_checkpoint_dir", "load"),
            ("save_checkpoint_dir", "save"),
        ] {
            if let Some(dir) = info["checkpoint"][field].as_str() {
                map.insert(key.into(), dir.into());
            }
        }
    }
    parameters
}

/// The records as NNI's JSON export.
pub fn to_json(records: &[NniRecord]) -> String {
    let items: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut item = Map::new();
            item.insert("parameter".into(), r.parameter.clone());
            item.insert("value".into(), Value::from(r.value.clone()));
            item.insert("trialJobId".into(), Value::from(r.trial_job_id.clone()));
            if let Some(values) = &r.intermediate {
                item.insert("intermediate".into(), Value::from(values.clone()));
            }
            Value::Object(item)
        })
        .collect();
    Value::Array(items).to_string()
}

/// The records as NNI's CSV export (an error when there are none, as nnictl says).
pub fn to_csv(records: &[NniRecord]) -> Result<String> {
    if records.is_empty() {
        bail!("no trial has reported a final result yet: nothing to export");
    }
    let rows: Vec<Vec<(String, String)>> = records.iter().map(csv_row).collect();
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (key, _) in row {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns)?;
    for row in &rows {
        writer.write_record(columns.iter().map(|c| {
            row.iter()
                .find(|(key, _)| key == c)
                .map_or("", |(_, v)| v.as_str())
        }))?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// One CSV row, as nnictl builds it: parameters, then the metric's keys (or `reward`),
/// `trialJobId`, `intermediate`. A later key of the same name wins, as in a dict.
fn csv_row(record: &NniRecord) -> Vec<(String, String)> {
    let mut row: Vec<(String, String)> = Vec::new();
    let mut put = |key: &str, value: String| match row.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => row.push((key.to_string(), value)),
    };
    if let Some(intermediate) = &record.intermediate {
        put("intermediate", format!("[{}]", intermediate.join(",")));
    }
    if let Value::Object(parameters) = &record.parameter {
        for (key, value) in parameters {
            put(key, cell(value));
        }
    }
    match serde_json::from_str::<Value>(&record.value) {
        Ok(Value::Object(metric)) => {
            for (key, value) in &metric {
                put(key, cell(value));
            }
        }
        _ => put("reward", record.value.clone()),
    }
    put("trialJobId", record.trial_job_id.clone());
    row
}

/// A CSV cell: strings bare, null empty, anything else as JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The metric a trial reported, as NNI stores it: archon's bookkeeping keys (`final`,
/// `step`) dropped, and `{"default": x}` alone back to the number `x` it came from.
pub(crate) fn reported_value(raw: &str) -> String {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(mut metric)) => {
            metric.remove("final");
            metric.remove("step");
            match metric.get("default") {
                Some(number) if metric.len() == 1 => number.to_string(),
                _ => Value::Object(metric).to_string(),
            }
        }
        Ok(other) => other.to_string(),
        Err(_) => raw.to_string(),
    }
}

/// archon's parameter form → the form NNI's tuners hand to trials (the `nni` module's
/// `to_hpo_parameters`): an entry with sub-parameters is a nested choice and becomes
/// `{"_name": <_value>, <key>: <converted>, ...}`; any other entry becomes its `_value`.
/// With the search space, a choice of a `_name` candidate stays `{"_name": ...}` even
/// without sub-parameters.
pub fn to_hpo_parameters(raw: &Value, space: Option<&Value>) -> Value {
    let Value::Object(entries) = raw else {
        return raw.clone();
    };
    Value::Object(
        entries
            .iter()
            .map(|(key, entry)| {
                let space_entry = space.and_then(|s| s.get(key));
                (key.clone(), convert_entry(entry, space_entry))
            })
            .collect(),
    )
}

fn convert_entry(entry: &Value, space_entry: Option<&Value>) -> Value {
    let Some(value) = entry.get("_value").filter(|_| entry.is_object()) else {
        return entry.clone();
    };
    let Value::Object(fields) = entry else {
        return entry.clone();
    };
    let sub_keys: Vec<&String> = fields
        .keys()
        .filter(|k| *k != "_value" && *k != "_idx")
        .collect();
    let candidate = chosen_named_candidate(space_entry, entry);
    if sub_keys.is_empty() && candidate.is_none() {
        return value.clone();
    }
    let mut converted = Map::new();
    converted.insert("_name".into(), value.clone());
    for key in sub_keys {
        let sub_space = candidate.and_then(|c| c.get(key));
        converted.insert(key.clone(), convert_entry(&fields[key], sub_space));
    }
    Value::Object(converted)
}

/// The search space's `_name` candidate a choice picked, if the space says so.
fn chosen_named_candidate<'a>(space_entry: Option<&'a Value>, entry: &Value) -> Option<&'a Value> {
    let space_entry = space_entry?;
    if space_entry.get("_type").and_then(Value::as_str) != Some("choice") {
        return None;
    }
    let candidates = space_entry.get("_value")?.as_array()?;
    let named = |c: &&Value| {
        c.get("_name")
            .is_some_and(|n| Some(n) == entry.get("_value"))
    };
    // A valid `_idx` decides alone (as the `nni` module does); else the name.
    match entry
        .get("_idx")
        .and_then(Value::as_u64)
        .and_then(|i| candidates.get(i as usize))
    {
        Some(chosen) => Some(chosen).filter(named),
        None => candidates.iter().find(named),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_become_what_the_trial_received() {
        let space = json!({
            "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
            "opt": {"_type": "choice", "_value": [
                {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0, 1]}},
                {"_name": "adam"}
            ]},
            "act": {"_type": "choice", "_value": ["relu", "tanh"]}
        });
        let raw = json!({
            "lr": {"_value": 0.01},
            "opt": {"_value": "sgd", "_idx": 0, "momentum": {"_value": 0.9}},
            "act": {"_value": "tanh", "_idx": 1}
        });
        assert_eq!(
            to_hpo_parameters(&raw, Some(&space)),
            json!({"lr": 0.01, "opt": {"_name": "sgd", "momentum": 0.9}, "act": "tanh"})
        );
        let adam = json!({"opt": {"_value": "adam", "_idx": 1}});
        assert_eq!(
            to_hpo_parameters(&adam, Some(&space)),
            json!({"opt": {"_name": "adam"}})
        );
        // Without the space, a choice with no sub-parameters is its value.
        assert_eq!(to_hpo_parameters(&adam, None), json!({"opt": "adam"}));
    }

    #[test]
    fn parameters_carry_what_the_nni_module_adds() {
        let raw = json!({"p": {"_value": {"lr": 0.1}, "_idx": 0}});
        let info = json!({"budget": 9.0, "checkpoint": {"load": "/a", "save": "/b"}});
        assert_eq!(
            received_parameters(&raw, None, true, &info),
            json!({"lr": 0.1, "TRIAL_BUDGET": 9, "load_checkpoint_dir": "/a",
                   "save_checkpoint_dir": "/b"})
        );
        assert_eq!(
            received_parameters(&raw, None, false, &json!({"budget": 2.5})),
            json!({"p": {"lr": 0.1}, "TRIAL_BUDGET": 2.5})
        );
    }

    #[test]
    fn values_are_what_the_trial_reported_as_json_text() {
        assert_eq!(
            reported_value(r#"{"default": 0.93, "final": true}"#),
            "0.93"
        );
        assert_eq!(reported_value(r#"{"default": 0.5, "step": 3}"#), "0.5");
        assert_eq!(
            reported_value(r#"{"default": 0.9, "loss": 0.2, "final": true}"#),
            r#"{"default":0.9,"loss":0.2}"#
        );
        assert_eq!(reported_value("0.25"), "0.25");
    }

    fn record(parameter: Value, value: &str, id: &str, inter: Option<&[&str]>) -> NniRecord {
        NniRecord {
            parameter,
            value: value.into(),
            trial_job_id: id.into(),
            intermediate: inter.map(|v| v.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn json_and_csv_have_nnis_shape() {
        let records = vec![
            record(
                json!({"x": 1, "name": "a"}),
                "0.5",
                "0",
                Some(&["0.1", "0.3"]),
            ),
            record(
                json!({"x": 2, "name": "b"}),
                r#"{"default":0.7,"loss":0.1}"#,
                "1",
                Some(&[]),
            ),
        ];
        let parsed: Value = serde_json::from_str(&to_json(&records)).unwrap();
        assert_eq!(
            parsed[0],
            json!({"parameter": {"x": 1, "name": "a"}, "value": "0.5", "trialJobId": "0",
                   "intermediate": ["0.1", "0.3"]})
        );
        let csv = to_csv(&records).unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("intermediate,x,name,reward,trialJobId,default,loss")
        );
        assert_eq!(lines.next(), Some("\"[0.1,0.3]\",1,a,0.5,0,,"));
        assert_eq!(lines.next(), Some("[],2,b,,1,0.7,0.1"));
        assert!(to_csv(&[])
            .unwrap_err()
            .to_string()
            .contains("nothing to export"));
        assert!(NniExportType::parse("xml")
            .unwrap_err()
            .to_string()
            .contains("json and csv"));
    }
}
