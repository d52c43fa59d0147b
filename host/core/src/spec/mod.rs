//! What a command or a config asks the host to do, as plain structs with their
//! defaults in one place: the data ([`DataSpec`]), the space ([`SpaceSpec`]) and the
//! training of a child ([`TrainSpec`]). `commands` builds them from clap arguments,
//! the experiment and search configs from TOML; the library never sees either.

pub mod data;
pub mod limits;
pub mod name;
pub mod output;
pub mod recipe;
mod section;
pub mod space;
pub mod train;

pub use data::DataSpec;
pub use recipe::RecipeSpec;
pub use section::{resolve_relative, SpaceSection};
pub use space::SpaceSpec;
pub use train::{Export, ExportFormat, TrainSpec};
