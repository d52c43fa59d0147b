//! Classic (multi-trial) NAS experiments: the config, the SQLite store, trials run as
//! processes by the local training service, and the manager that ties them to a tuner.

pub mod assessor;
pub mod config;
pub mod manager;
pub mod protocol;
pub mod runner;
pub mod store;
