//! `[space.hyperparameters]`: training settings of the built-in trial searched next to
//! the architecture, written as NNI search-space entries, e.g.
//! `lr = { _type = "loguniform", _value = [0.001, 0.3] }`. They join the built-in
//! space's choices in the search space the tuner sees; the built-in trial takes them
//! out of each trial's parameters and trains with them.

use anyhow::{bail, Result};
use archon_core::spec::TrainSpec;
use archon_plugin_api::{space::Selection, Architecture, SearchSpace};
use serde_json::{Map, Value};

/// The settings the built-in trial takes from its parameters.
pub const NAMES: [&str; 4] = ["lr", "batch_size", "drop_path", "cutout"];

/// The entries as an NNI search space (validated), or what is wrong with which entry.
pub fn search_space(table: &toml::Table) -> std::result::Result<SearchSpace, (String, String)> {
    let mut map = Map::new();
    for (name, entry) in table {
        let key = format!("space.hyperparameters.{name}");
        if !NAMES.contains(&name.as_str()) {
            return Err((
                key,
                format!(
                    "the built-in trial takes no hyperparameter {name:?} (it takes {})",
                    NAMES.join(", ")
                ),
            ));
        }
        let value = serde_json::to_value(entry).map_err(|e| (key.clone(), e.to_string()))?;
        map.insert(name.clone(), value);
    }
    let space = SearchSpace::from_json(&Value::Object(map)).map_err(|e| {
        (
            "space.hyperparameters".to_string(),
            format!(
                "{} (write e.g. lr = {{ _type = \"loguniform\", _value = [0.001, 0.3] }})",
                e.message()
            ),
        )
    })?;
    if let Some(c) = space.choices().iter().find(|c| c.is_nested()) {
        return Err((
            format!("space.hyperparameters.{}", c.name()),
            "a setting of the built-in trial is one number: nested choices are for search-space files".into(),
        ));
    }
    Ok(space)
}

/// Adds the hyperparameters to a built-in space's JSON; a name the space already uses
/// is an error.
pub fn extend_space(space_json: &mut Map<String, Value>, table: &toml::Table) -> Result<()> {
    let extra = search_space(table).map_err(|(key, what)| anyhow::anyhow!("{key}: {what}"))?;
    let Value::Object(entries) = extra.to_json() else {
        bail!("internal: a search space is a JSON object");
    };
    for (name, entry) in entries {
        if space_json.contains_key(&name) {
            bail!("space.hyperparameters.{name}: the built-in space already has a choice called {name:?}");
        }
        space_json.insert(name, entry);
    }
    Ok(())
}

/// Takes the hyperparameters out of a trial's parameters (NNI JSON) into `spec`; what
/// remains is the architecture.
pub fn apply(spec: &mut TrainSpec, table: &toml::Table, parameters: &mut Value) -> Result<()> {
    if table.is_empty() {
        return Ok(());
    }
    let space = search_space(table).map_err(|(key, what)| anyhow::anyhow!("{key}: {what}"))?;
    let Value::Object(all) = parameters else {
        bail!("trial parameters: expected a JSON object, found {parameters}");
    };
    let mut mine = Map::new();
    for choice in space.choices() {
        match all.remove(choice.name()) {
            Some(v) => mine.insert(choice.name().to_string(), v),
            None => bail!(
                "trial parameters: the hyperparameter {:?} is missing",
                choice.name()
            ),
        };
    }
    let arch = Architecture::from_json(&space, &Value::Object(mine))?;
    for (choice, selection) in space.choices().iter().zip(arch.selections()) {
        let value = match selection {
            Selection::Number(x) => x.0,
            one => choice
                .candidate_value(one.indices().first().copied().unwrap_or(0))
                .as_f64()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "space.hyperparameters.{}: the candidates must be numbers",
                        choice.name()
                    )
                })?,
        };
        let whole = |what: &str, min: f64| -> Result<i64> {
            let v = value.round();
            if v < min {
                bail!("trial parameters: {what} = {value} (it must be at least {min})");
            }
            Ok(v as i64)
        };
        match choice.name() {
            "lr" if value > 0.0 => spec.lr = value,
            "lr" => bail!("trial parameters: lr = {value} (it must be positive)"),
            "batch_size" => spec.batch_size = whole("batch_size", 1.0)?,
            "cutout" => spec.cutout = whole("cutout", 0.0)?,
            "drop_path" if (0.0..1.0).contains(&value) => spec.drop_path = value,
            "drop_path" => bail!("trial parameters: drop_path = {value} (it must be in [0, 1))"),
            other => bail!("internal: unhandled hyperparameter {other:?}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn parameters_set_the_training_and_leave_the_architecture() {
        let t = table(
            r#"lr = { _type = "loguniform", _value = [0.001, 0.3] }
               batch_size = { _type = "choice", _value = [32, 64] }"#,
        );
        let mut spec = TrainSpec::default();
        let mut params = serde_json::json!({
            "op": {"_value": "conv", "_idx": 0},
            "lr": {"_value": 0.05},
            "batch_size": {"_value": 64, "_idx": 1}
        });
        apply(&mut spec, &t, &mut params).unwrap();
        assert_eq!((spec.lr, spec.batch_size), (0.05, 64));
        assert_eq!(
            params,
            serde_json::json!({"op": {"_value": "conv", "_idx": 0}})
        );
    }

    #[test]
    fn errors_name_the_hyperparameter() {
        let e = search_space(&table(
            r#"momentum = { _type = "uniform", _value = [0, 1] }"#,
        ))
        .unwrap_err();
        assert_eq!(e.0, "space.hyperparameters.momentum");
        assert!(
            e.1.contains(
                "takes no hyperparameter \"momentum\" (it takes lr, batch_size, drop_path, cutout)"
            ),
            "{}",
            e.1
        );
        let e =
            search_space(&table(r#"lr = { _type = "loguniform", _value = [0, 1] }"#)).unwrap_err();
        assert!(
            e.1.contains("at \"lr\"._value: a loguniform needs 0 < low"),
            "{}",
            e.1
        );
        let mut space = Map::new();
        space.insert("lr".into(), Value::Null);
        let e = extend_space(
            &mut space,
            &table(r#"lr = { _type = "uniform", _value = [0.1, 1] }"#),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("already has a choice called \"lr\""),
            "{e}"
        );
    }
}
