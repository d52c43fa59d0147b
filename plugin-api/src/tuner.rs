//! Tuners: the author-facing trait, the adapter that puts one behind the ABI, and the
//! typed client the host (and the conformance kit) drive it through.

use crate::{
    abi::{TunerAbi, TunerAbi_TO, TunerBox},
    error::{PluginError, Result},
    guard::{catch_panic, Guarded},
    options::Options,
    space::{Architecture, SearchSpace, CATEGORICAL_TYPES},
};
use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString},
};
use serde_json::Value;

/// The id the host gives each trial's parameters.
pub type ParameterId = u64;

/// A trial's reported metric: NNI's `0.93` or `{"default": 0.93, ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The value the search optimises.
    pub default: f64,
    /// The metric as reported, with any extra fields.
    pub raw: Value,
}

impl Metric {
    /// Parses a metric; errors say what a metric must look like.
    pub fn from_json(value: &Value) -> Result<Self> {
        let default = match value {
            Value::Number(n) => n.as_f64(),
            Value::Object(map) => map.get("default").and_then(Value::as_f64),
            _ => None,
        };
        default
            .map(|default| Metric {
                default,
                raw: value.clone(),
            })
            .ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "metric: expected a number or an object with a numeric \"default\", found {value}"
                ))
            })
    }
}

/// A classic (multi-trial) NAS strategy, as its author writes it.
///
/// Implement this and name the type in [`export_plugin!`](crate::export_plugin).
/// Return errors for bad input; a panic is caught, reported as an error and poisons
/// the tuner, but it is a bug.
pub trait Tuner: Send + 'static {
    /// The search-space `_type`s this tuner reads. A space with any other type is
    /// refused before the tuner sees it, naming the parameter and its type. The
    /// default is the categorical types (`layer_choice`, `input_choice`, `choice`,
    /// `randint`); a tuner that handles numbers adds the numeric ones (see
    /// [`NumericType`](crate::space::NumericType)).
    const SUPPORTED_TYPES: &'static [&'static str] = &CATEGORICAL_TYPES;

    /// Creates the tuner from its options. Reject unknown options
    /// ([`Options::deny_unknown`]) so that typos are errors.
    fn new(options: &Options) -> Result<Self>
    where
        Self: Sized;

    /// Takes a new (validated) search space. May be called again to replace it.
    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()>;

    /// The architecture for trial `id`, or `None` when there is nothing to propose now.
    /// The host asks again after the next trial ends; `None` while no trial is running
    /// ends the search (a finite space exhausted, a schedule complete).
    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>>;

    /// The final metric of trial `id` that ran `parameters`. The trial may be one this
    /// tuner never proposed (an id it never gave out): the host's proxy pre-filter runs
    /// its own picks first, and reports them like any other, so that a tuner that
    /// learns from `parameters` (evolution's population, TPE's model) starts from them.
    /// Learn from such a result or ignore it, but don't fail (`trial_end` follows for it
    /// too).
    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()>;

    /// Trial `id` ended; `success` is false if it failed.
    fn trial_end(&mut self, id: ParameterId, success: bool) -> Result<()>;

    /// The whole state as JSON (the search space is restored separately).
    fn save_state(&self) -> Result<Value>;

    /// Restores a state from `save_state`, after `update_search_space`.
    fn load_state(&mut self, state: &Value) -> Result<()>;

    /// What the host should know about trial `id` beyond its architecture, asked right
    /// after `generate_parameters(id)`: for multi-fidelity tuners a JSON object with
    /// `"budget"` (a positive number: the trial's epochs, or the fidelity a table
    /// answers at) and, for a promotion, `"promoted_from"` (the trial id whose
    /// architecture continues); `"checkpoint": {"load": DIR, "save": DIR}` for a
    /// trial that continues a checkpoint (population based training: the trial gets
    /// `ARCHON_LOAD_CHECKPOINT_DIR` and `ARCHON_SAVE_CHECKPOINT_DIR`); any other keys
    /// are shown as given. `None` (the default): a trial at the experiment's own budget.
    fn trial_info(&self, _id: ParameterId) -> Result<Option<Value>> {
        Ok(None)
    }
}

/// An author's tuner behind the ABI: parses and validates every payload, renders
/// architectures as JSON, and catches panics.
struct TunerAdapter<T> {
    tuner: Guarded<T>,
    space: Option<SearchSpace>,
}

impl<T: Tuner> TunerAdapter<T> {
    fn space(&self) -> Result<&SearchSpace> {
        self.space.as_ref().ok_or_else(|| {
            PluginError::invalid_state("no search space yet: call update_search_space first")
        })
    }
}

fn parse_json(what: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        PluginError::invalid_input(format!(
            "{what}: not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })
}

impl<T: Tuner> TunerAbi for TunerAdapter<T> {
    fn update_search_space(&mut self, search_space: RStr<'_>) -> RResult<(), PluginError> {
        let mut run = || {
            let space = SearchSpace::from_json_str(search_space.as_str())?;
            space.require_types(T::SUPPORTED_TYPES, "this tuner")?;
            self.tuner
                .call("update_search_space", |t| t.update_search_space(&space))?;
            self.space = Some(space);
            Ok(())
        };
        run().into()
    }

    fn generate_parameters(&mut self, id: u64) -> RResult<ROption<RString>, PluginError> {
        let mut run = || -> Result<ROption<RString>> {
            let space = self.space()?.clone();
            let arch = self
                .tuner
                .call("generate_parameters", |t| t.generate_parameters(id))?;
            Ok(match arch {
                Some(arch) => {
                    // Re-check: a tuner must never hand out an invalid architecture.
                    let arch =
                        Architecture::new(&space, arch.selections().to_vec()).map_err(|e| {
                            PluginError::internal(format!(
                                "the tuner generated an invalid architecture: {e}"
                            ))
                        })?;
                    ROption::RSome(arch.to_json(&space).to_string().into())
                }
                None => ROption::RNone,
            })
        };
        run().into()
    }

    fn receive_trial_result(
        &mut self,
        id: u64,
        parameters: RStr<'_>,
        metric: RStr<'_>,
    ) -> RResult<(), PluginError> {
        let mut run = || {
            let space = self.space()?;
            let arch =
                Architecture::from_json(space, &parse_json("parameters", parameters.as_str())?)?;
            let metric = Metric::from_json(&parse_json("metric", metric.as_str())?)?;
            self.tuner.call("receive_trial_result", |t| {
                t.receive_trial_result(id, &arch, &metric)
            })
        };
        run().into()
    }

    fn trial_end(&mut self, id: u64, success: bool) -> RResult<(), PluginError> {
        self.tuner
            .call("trial_end", |t| t.trial_end(id, success))
            .into()
    }

    fn save_state(&self) -> RResult<RString, PluginError> {
        self.tuner
            .call_ref("save_state", |t| t.save_state())
            .map(|v| RString::from(v.to_string()))
            .into()
    }

    fn load_state(&mut self, state: RStr<'_>) -> RResult<(), PluginError> {
        let mut run = || {
            self.space()?;
            let state = parse_json("saved state", state.as_str())?;
            self.tuner.call("load_state", |t| t.load_state(&state))
        };
        run().into()
    }

    fn trial_info(&self, id: u64) -> RResult<ROption<RString>, PluginError> {
        let run = || -> Result<ROption<RString>> {
            let info = self.tuner.call_ref("trial_info", |t| t.trial_info(id))?;
            match info {
                None => Ok(ROption::RNone),
                Some(Value::Object(map)) => {
                    if let Some(b) = map.get("budget") {
                        if !b.as_f64().is_some_and(|b| b > 0.0 && b.is_finite()) {
                            return Err(PluginError::internal(format!(
                                "the tuner gave trial {id} the budget {b}; a budget is a positive number"
                            )));
                        }
                    }
                    Ok(ROption::RSome(Value::Object(map).to_string().into()))
                }
                Some(other) => Err(PluginError::internal(format!(
                    "the tuner's trial info for trial {id} is {other}, not a JSON object"
                ))),
            }
        };
        run().into()
    }
}

/// Builds a `T` behind the ABI from options given as JSON text. This is what a
/// plugin's `new_tuner` entry point runs (the export macro points it here).
#[doc(hidden)]
pub extern "C" fn new_tuner<T: Tuner>(options: RStr<'_>) -> RResult<TunerBox, PluginError> {
    catch_panic("Tuner::new", || {
        let options = Options::from_json_str(options.as_str())?;
        let tuner = T::new(&options)?;
        Ok(TunerAbi_TO::from_value(
            TunerAdapter {
                tuner: Guarded::new(tuner),
                space: None,
            },
            TD_Opaque,
        ))
    })
    .into()
}

/// A tuner as the host drives it: from a loaded plugin, or in-process for tests.
///
/// Payloads are JSON; errors come back as [`PluginError`]s (a plugin panic has kind
/// [`ErrorKind::Panic`](crate::ErrorKind::Panic)).
pub struct TunerClient {
    inner: TunerBox,
}

impl TunerClient {
    /// Wraps a tuner object returned by a plugin's `new_tuner`.
    pub fn from_box(inner: TunerBox) -> Self {
        TunerClient { inner }
    }

    /// Creates an author's tuner in this process, through the same adapter a plugin
    /// uses, so that a plugin's own tests can run the conformance kit without loading
    /// a library.
    pub fn in_process<T: Tuner>(options: &str) -> Result<Self> {
        new_tuner::<T>(options.into())
            .into_result()
            .map(Self::from_box)
    }

    /// Replaces the search space (NNI-format JSON text).
    pub fn update_search_space(&mut self, space: &str) -> Result<()> {
        self.inner.update_search_space(space.into()).into_result()
    }

    /// Parameters for trial `id`, or `None` if the tuner has no more trials.
    pub fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Value>> {
        match self.inner.generate_parameters(id).into_result()? {
            ROption::RSome(text) => serde_json::from_str(text.as_str()).map(Some).map_err(|e| {
                PluginError::internal(format!(
                    "the plugin returned parameters that are not JSON: {e}"
                ))
            }),
            ROption::RNone => Ok(None),
        }
    }

    /// Reports trial `id`'s final metric.
    pub fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &str,
        metric: &str,
    ) -> Result<()> {
        self.inner
            .receive_trial_result(id, parameters.into(), metric.into())
            .into_result()
    }

    /// Reports that trial `id` ended.
    pub fn trial_end(&mut self, id: ParameterId, success: bool) -> Result<()> {
        self.inner.trial_end(id, success).into_result()
    }

    /// The tuner's state as JSON text.
    pub fn save_state(&self) -> Result<String> {
        self.inner
            .save_state()
            .into_result()
            .map(RString::into_string)
    }

    /// Restores a state from [`save_state`](Self::save_state).
    pub fn load_state(&mut self, state: &str) -> Result<()> {
        self.inner.load_state(state.into()).into_result()
    }

    /// The tuner's info on trial `id` (a JSON object: `budget`, `promoted_from`, …), or
    /// `None` for a trial at the experiment's own budget.
    pub fn trial_info(&self, id: ParameterId) -> Result<Option<Value>> {
        match self.inner.trial_info(id).into_result()? {
            ROption::RSome(text) => serde_json::from_str(text.as_str()).map(Some).map_err(|e| {
                PluginError::internal(format!(
                    "the plugin returned trial info that is not JSON: {e}"
                ))
            }),
            ROption::RNone => Ok(None),
        }
    }
}
