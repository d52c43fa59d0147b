//! The error type of archon-spaces.

use std::path::PathBuf;

/// What can go wrong building spaces or loading data.
#[derive(Debug, thiserror::Error)]
pub enum SpacesError {
    /// A data file could not be read.
    #[error("{path}: cannot read ({source}); {hint}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
        /// What to do.
        hint: String,
    },
    /// A data file is not in the expected format.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A space, its options or a setting is wrong.
    #[error("{0}")]
    Config(String),
    /// An error from plugin-api (search space or architecture validation).
    #[error(transparent)]
    Plugin(#[from] archon_plugin_api::PluginError),
    /// A libtorch operation failed.
    #[error(transparent)]
    Tensor(#[from] tch::TchError),
}

/// `Result` with [`SpacesError`].
pub type Result<T, E = SpacesError> = std::result::Result<T, E>;
