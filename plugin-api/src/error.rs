//! The one error type of plugin-api. It crosses the plugin boundary as it is
//! (`#[repr(C)]`, `StableAbi`), so a plugin's error reaches the host with its kind and
//! its full message, and a caught panic is told apart from an ordinary error.

use abi_stable::{std_types::RString, StableAbi};
use std::fmt;

/// What sort of failure a [`PluginError`] reports.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller passed something malformed: a search space, options, parameters,
    /// a metric, a saved state.
    InvalidInput = 0,
    /// The call is not valid now (e.g. parameters asked for before any search space).
    InvalidState = 1,
    /// The plugin does not offer this (e.g. asking a tuner-only plugin for a cell).
    Unsupported = 2,
    /// The plugin panicked; the panic was caught at the boundary.
    Panic = 3,
    /// Anything else that went wrong inside the plugin.
    Internal = 4,
}

impl ErrorKind {
    /// A short lower-case name, used in messages and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::InvalidState => "invalid state",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Panic => "panic",
            ErrorKind::Internal => "internal error",
        }
    }
}

/// An error returned by a plugin (or by plugin-api on its behalf).
///
/// Owned by whoever holds it; it carries an `RString`, freed by the allocator of the
/// side that drops it (abi_stable strings carry their own deallocator).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    kind: ErrorKind,
    message: RString,
}

impl PluginError {
    /// An error of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: RString::from(message.into()),
        }
    }
    /// Malformed input; say what, where and what to do.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    /// A call that is not valid in the current state.
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidState, message)
    }
    /// Something the plugin does not offer.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    /// Any other failure inside the plugin.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// What sort of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The message, without the kind.
    pub fn message(&self) -> &str {
        self.message.as_str()
    }
    /// The same error with `context: ` put before its message.
    pub fn context(self, context: impl fmt::Display) -> Self {
        PluginError {
            kind: self.kind,
            message: RString::from(format!("{context}: {}", self.message)),
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.as_str())
    }
}

impl std::error::Error for PluginError {}

/// `Result` with [`PluginError`] as its error.
pub type Result<T, E = PluginError> = std::result::Result<T, E>;
