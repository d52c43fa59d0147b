//! `grid` — exhaustive grid search, for small spaces.
//!
//! It proposes every architecture of the search space once, in odometer order (the
//! last choice varies fastest), then says there are no more trials. It works on spaces
//! of any size, because it keeps one counter per choice instead of numbering the
//! whole space.

use archon_plugin_api::{
    plugin_options, Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId,
    PluginError, Result, SearchSpace, Tuner,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

plugin_options! {
    /// The grid tuner's options.
    pub struct GridOptions {
        /// Accepted and ignored: grid search is deterministic.
        pub seed: Option<u64> = None,
        /// Accepted for symmetry with other tuners; grid search ignores results.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
    }
}

/// What grid search saves: the odometer's digits as decimal strings, or `null` once
/// every architecture was proposed.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    #[serde(deserialize_with = "present")]
    odometer: Option<Vec<String>>,
}

/// The key must be there (`null` once exhausted); serde would read a missing one as
/// `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Vec<String>>, D::Error> {
    Option::deserialize(d)
}

/// Grid search (options: [`GridOptions`]).
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
        GridOptions::from_options(options, "grid")?;
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
        let state = State {
            odometer: self
                .odometer
                .as_ref()
                .map(|d| d.iter().map(u128::to_string).collect()),
        };
        serde_json::to_value(state).map_err(|e| PluginError::internal(format!("saving state: {e}")))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        let bad = |e: &dyn std::fmt::Display| {
            PluginError::invalid_input(format!(
                "saved state: expected {{\"odometer\": [\"0\", ...] or null}}: {e}"
            ))
        };
        let state = State::deserialize(state).map_err(|e| bad(&e))?;
        let odometer = match state.odometer {
            None => None,
            Some(items) => {
                let digits = items
                    .iter()
                    .map(|d| d.parse::<u128>().map_err(|e| bad(&e)))
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
        };
        self.odometer = odometer;
        Ok(())
    }
}

archon_plugin_api::export_plugin! {
    name: "grid",
    version: env!("CARGO_PKG_VERSION"),
    description: "Grid search: every architecture once, in a deterministic (odometer) order",
    options: GridOptions,
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
