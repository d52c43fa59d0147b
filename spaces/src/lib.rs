//! # archon-spaces
//!
//! The model side of archon: choice primitives ([`choice`]), layers and operations
//! ([`nn`]), the hub of published spaces ([`hub`]), supernets and children
//! ([`Supernet`], [`Child`]), and the datasets they train on ([`data`]).

pub mod choice;
pub mod data;
mod device;
mod error;
pub mod export;
pub mod hub;
mod network;
pub mod nn;
pub mod parallel;
pub mod proxies;
pub mod train;

pub use device::parse_device;
pub use error::{Result, SpacesError};
pub use network::{search_space_of, Child, Supernet};
