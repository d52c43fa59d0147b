//! Finding, loading and checking plugin libraries.

mod loader;
mod registry;
mod search_path;

pub use loader::{load, LoadError, LoadedPlugin};
pub use registry::{resolve, Found, Registry};
pub use search_path::SearchPath;
