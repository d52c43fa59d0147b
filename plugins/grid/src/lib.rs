//! `grid` — exhaustive grid search, for small spaces.
//!
//! It proposes every architecture of the search space once, in odometer order (the
//! last choice varies fastest), then says there are no more trials. It works on spaces
//! of any size, because it keeps one counter per choice instead of numbering the
//! whole space.

use archon_plugin_api::{
    Architecture, Metric, Options, ParameterId, PluginError, Result, SearchSpace, Tuner,
};
use serde_json::{json, Value};

/// Grid search. Options: `seed` (accepted and ignored: grid search is deterministic).
#[derive(Default)]
pub struct GridTuner {
    space: Option<SearchSpace>,
    /// The rank of the next selection of each choice; `None` once exhausted.
    odometer: Option<Vec<u128>>,
}

impl GridTuner {
    fn radices(space: &SearchSpace) -> Result<Vec<u128>> {
        space
            .choices()
            .iter()
            .map(|c| {
                c.num_selections().ok_or_else(|| {
                    PluginError::invalid_input(format!(
                        "search space: choice {:?} has too many subsets for grid search",
                        c.name()
                    ))
                })
            })
            .collect()
    }
}

impl Tuner for GridTuner {
    fn new(options: &Options) -> Result<Self> {
        options.deny_unknown("grid", &["seed", "optimize_mode"])?;
        options.u64("seed")?;
        options.one_of("optimize_mode", &["maximize", "minimize"])?;
        Ok(GridTuner::default())
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        Self::radices(space)?;
        self.odometer = Some(vec![0; space.choices().len()]);
        self.space = Some(space.clone());
        Ok(())
    }

    fn generate_parameters(&mut self, _id: ParameterId) -> Result<Option<Architecture>> {
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        let Some(digits) = self.odometer.as_mut() else {
            return Ok(None);
        };
        let selections = space
            .choices()
            .iter()
            .zip(digits.iter())
            .map(|(c, d)| c.selection_at(*d))
            .collect();
        let arch = Architecture::new(space, selections)?;
        // Advance the odometer; falling off the front means every one was proposed.
        let radices = Self::radices(space)?;
        let mut exhausted = true;
        for (digit, radix) in digits.iter_mut().zip(radices).rev() {
            *digit += 1;
            if *digit < radix {
                exhausted = false;
                break;
            }
            *digit = 0;
        }
        if exhausted {
            self.odometer = None;
        }
        Ok(Some(arch))
    }

    fn receive_trial_result(&mut self, _: ParameterId, _: &Architecture, _: &Metric) -> Result<()> {
        Ok(())
    }

    fn trial_end(&mut self, _: ParameterId, _: bool) -> Result<()> {
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        Ok(json!({
            "odometer": self.odometer.as_ref().map(|d| d.iter().map(u128::to_string).collect::<Vec<_>>())
        }))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        let bad = || {
            PluginError::invalid_input("saved state: expected {\"odometer\": [\"0\", ...] or null}")
        };
        let odometer = match state
            .as_object()
            .and_then(|o| o.get("odometer"))
            .ok_or_else(bad)?
        {
            Value::Null => None,
            Value::Array(items) => {
                let digits = items
                    .iter()
                    .map(|d| {
                        d.as_str()
                            .and_then(|s| s.parse::<u128>().ok())
                            .ok_or_else(bad)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let radices = Self::radices(space)?;
                if digits.len() != radices.len() || digits.iter().zip(&radices).any(|(d, r)| d >= r)
                {
                    return Err(PluginError::invalid_input(
                        "saved state: the odometer does not fit the current search space",
                    ));
                }
                Some(digits)
            }
            _ => return Err(bad()),
        };
        self.odometer = odometer;
        Ok(())
    }
}

archon_plugin_api::export_plugin! {
    name: "grid",
    version: env!("CARGO_PKG_VERSION"),
    description: "Grid search: every architecture once, in a deterministic (odometer) order",
    tuner: GridTuner,
}

#[cfg(test)]
mod tests {
    use super::GridTuner;
    use archon_plugin_api::{conformance::check_tuner, TunerClient};

    #[test]
    fn passes_the_conformance_kit_and_enumerates_in_order() {
        let report = check_tuner(&|options: &str| TunerClient::in_process::<GridTuner>(options));
        assert!(report.passed(), "{report}");
        let mut t = TunerClient::in_process::<GridTuner>("{}").unwrap();
        t.update_search_space(r#"{"a": {"_type": "choice", "_value": [1, 2]}, "b": {"_type": "choice", "_value": ["x", "y", "z"]}}"#).unwrap();
        let order: Vec<String> = (0..6)
            .map(|i| {
                let p = t.generate_parameters(i).unwrap().unwrap();
                format!("{}{}", p["a"]["_value"], p["b"]["_value"].as_str().unwrap())
            })
            .collect();
        assert_eq!(order, ["1x", "1y", "1z", "2x", "2y", "2z"]);
        assert!(t.generate_parameters(6).unwrap().is_none());
    }
}
