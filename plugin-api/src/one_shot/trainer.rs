//! One-shot trainers: the author-facing trait, its adapter behind the ABI, and the
//! host-side client.

use super::{context::SupernetContext, host::with_host, SupernetHost};
use crate::{
    abi::{OneShotTrainerAbi, OneShotTrainerAbi_TO, OneShotTrainerBox, SupernetRef},
    error::{PluginError, Result},
    guard::{catch_panic, Guarded},
    options::Options,
};
use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use serde_json::Value;

/// A one-shot NAS algorithm as its author writes it.
///
/// It owns its algorithm state and drives the host's supernet through
/// [`SupernetContext`]: settings, batches, forward passes, weight steps, reports.
pub trait OneShotTrainer: Send + 'static {
    /// Creates the trainer from its options; unknown or bad options are errors.
    fn new(options: &Options) -> Result<Self>
    where
        Self: Sized;

    /// Prepares the search: reads the choices and creates architecture parameters.
    fn begin(&mut self, supernet: &mut SupernetContext<'_>) -> Result<()>;

    /// Runs one search epoch (`epoch` from 0) of
    /// [`steps_per_epoch`](super::SearchInfo::steps_per_epoch) steps, reporting steps
    /// and the epoch through [`SupernetContext::report`].
    fn epoch(&mut self, supernet: &mut SupernetContext<'_>, epoch: usize) -> Result<()>;

    /// The architecture found: NNI-format JSON for the supernet's space.
    fn export(&mut self, supernet: &mut SupernetContext<'_>) -> Result<Value>;

    /// The whole algorithm state as JSON (architecture parameters, controller weights,
    /// generator positions, ...), taken between epochs so that a killed search can be
    /// resumed. The default says the trainer cannot be resumed.
    fn save_state(&self) -> Result<Value> {
        Err(PluginError::unsupported(
            "this trainer cannot save its state",
        ))
    }

    /// Restores a state from [`save_state`](Self::save_state), called instead of
    /// [`begin`](Self::begin) when a search resumes; the host has restored the
    /// networks (weights, options, extra networks) to the same checkpoint.
    fn load_state(&mut self, _supernet: &mut SupernetContext<'_>, _state: &Value) -> Result<()> {
        Err(PluginError::unsupported("this trainer cannot load a state"))
    }
}

struct TrainerAdapter<T> {
    trainer: Guarded<T>,
}

impl<T: OneShotTrainer> OneShotTrainerAbi for TrainerAdapter<T> {
    fn save_state(&self) -> RResult<RString, PluginError> {
        self.trainer
            .call_ref("save_state", |t| t.save_state())
            .map(|v| RString::from(v.to_string()))
            .into()
    }

    fn load_state(
        &mut self,
        supernet: SupernetRef<'_>,
        state: RStr<'_>,
    ) -> RResult<(), PluginError> {
        let mut ctx = SupernetContext::new(supernet);
        let state: Value = match serde_json::from_str(state.as_str()) {
            Ok(v) => v,
            Err(e) => {
                return RResult::RErr(PluginError::invalid_input(format!(
                    "trainer state: malformed JSON: {e}"
                )))
            }
        };
        self.trainer
            .call("load_state", |t| t.load_state(&mut ctx, &state))
            .into()
    }

    fn begin(&mut self, supernet: SupernetRef<'_>) -> RResult<(), PluginError> {
        let mut ctx = SupernetContext::new(supernet);
        self.trainer.call("begin", |t| t.begin(&mut ctx)).into()
    }

    fn epoch(&mut self, supernet: SupernetRef<'_>, epoch: u32) -> RResult<(), PluginError> {
        let mut ctx = SupernetContext::new(supernet);
        self.trainer
            .call("epoch", |t| t.epoch(&mut ctx, epoch as usize))
            .into()
    }

    fn export(&mut self, supernet: SupernetRef<'_>) -> RResult<RString, PluginError> {
        let mut ctx = SupernetContext::new(supernet);
        self.trainer
            .call("export", |t| t.export(&mut ctx))
            .map(|v| RString::from(v.to_string()))
            .into()
    }
}

/// What a plugin's `new_one_shot_trainer` entry point runs for a trainer type `T`.
#[doc(hidden)]
pub extern "C" fn new_one_shot_trainer<T: OneShotTrainer>(
    options: RStr<'_>,
) -> RResult<OneShotTrainerBox, PluginError> {
    catch_panic("OneShotTrainer::new", || {
        let options = Options::from_json_str(options.as_str())?;
        let trainer = T::new(&options)?;
        Ok(OneShotTrainerAbi_TO::from_value(
            TrainerAdapter {
                trainer: Guarded::new(trainer),
            },
            TD_Opaque,
        ))
    })
    .into()
}

/// A one-shot trainer as the host drives it.
pub struct OneShotClient {
    inner: OneShotTrainerBox,
}

impl OneShotClient {
    /// Wraps a trainer object returned by a plugin's `new_one_shot_trainer`.
    pub fn from_box(inner: OneShotTrainerBox) -> Self {
        OneShotClient { inner }
    }

    /// Creates an author's trainer in this process, through the plugin adapter.
    pub fn in_process<T: OneShotTrainer>(options: &str) -> Result<Self> {
        new_one_shot_trainer::<T>(options.into())
            .into_result()
            .map(Self::from_box)
    }

    /// Starts the search on `host`'s supernet.
    pub fn begin(&mut self, host: &mut dyn SupernetHost) -> Result<()> {
        let inner = &mut self.inner;
        with_host(host, |sn| inner.begin(sn).into_result())
    }

    /// Runs search epoch `epoch`.
    pub fn epoch(&mut self, host: &mut dyn SupernetHost, epoch: usize) -> Result<()> {
        let epoch = u32::try_from(epoch)
            .map_err(|_| PluginError::invalid_input(format!("epoch {epoch} is too large")))?;
        let inner = &mut self.inner;
        with_host(host, |sn| inner.epoch(sn, epoch).into_result())
    }

    /// The trainer's state (JSON), or an error if it cannot save one.
    pub fn save_state(&self) -> Result<Value> {
        let text = self.inner.save_state().into_result()?;
        serde_json::from_str(text.as_str())
            .map_err(|e| PluginError::internal(format!("the trainer saved malformed JSON: {e}")))
    }

    /// Restores a saved state on `host` (instead of [`begin`](Self::begin)).
    pub fn load_state(&mut self, host: &mut dyn SupernetHost, state: &Value) -> Result<()> {
        let text = state.to_string();
        let inner = &mut self.inner;
        with_host(host, |sn| {
            inner.load_state(sn, text.as_str().into()).into_result()
        })
    }

    /// The architecture found (JSON as the trainer wrote it; validate it against the
    /// space before use).
    pub fn export(&mut self, host: &mut dyn SupernetHost) -> Result<Value> {
        let inner = &mut self.inner;
        let text = with_host(host, |sn| inner.export(sn).into_result())?;
        serde_json::from_str(text.as_str())
            .map_err(|e| PluginError::internal(format!("the trainer exported malformed JSON: {e}")))
    }
}
