//! Turning panics inside plugin code into errors at the boundary.
//!
//! A panic must never unwind through an `extern "C"` frame (that aborts the whole host).
//! Every entry point of a plugin runs its author's code under [`Guarded::call`], which
//! catches the panic, reports it as [`ErrorKind::Panic`](crate::ErrorKind::Panic), and
//! poisons the object: its state may be half-updated, so later calls fail cleanly
//! instead of running on it.

use crate::error::{ErrorKind, PluginError, Result};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into a [`PluginError`] of kind `Panic`.
pub(crate) fn catch_panic<R>(what: &str, f: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with a non-text payload".into());
        Err(PluginError::new(
            ErrorKind::Panic,
            format!("the plugin panicked in {what}: {message}"),
        ))
    })
}

/// An author's object behind the boundary, poisoned after its first panic.
pub(crate) struct Guarded<T> {
    inner: T,
    poisoned: Option<String>,
}

impl<T> Guarded<T> {
    pub(crate) fn new(inner: T) -> Self {
        Guarded {
            inner,
            poisoned: None,
        }
    }

    /// Runs `f` on the object unless it is poisoned; a panic poisons it.
    pub(crate) fn call<R>(&mut self, what: &str, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        self.check(what)?;
        let inner = &mut self.inner;
        let result = catch_panic(what, || f(inner));
        if let Err(e) = &result {
            if e.kind() == ErrorKind::Panic {
                self.poisoned = Some(what.to_string());
            }
        }
        result
    }

    /// Like [`call`](Self::call) for methods that take `&self`.
    pub(crate) fn call_ref<R>(&self, what: &str, f: impl FnOnce(&T) -> Result<R>) -> Result<R> {
        self.check(what)?;
        catch_panic(what, || f(&self.inner))
    }

    fn check(&self, what: &str) -> Result<()> {
        match &self.poisoned {
            Some(earlier) => Err(PluginError::invalid_state(format!(
                "cannot call {what}: this object panicked earlier (in {earlier}) and may be inconsistent; create a new one"
            ))),
            None => Ok(()),
        }
    }
}
