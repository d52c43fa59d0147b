//! Classic (multi-trial) NAS experiments: the config, the SQLite store, trials run by a
//! training service (local processes or Slurm jobs), and the manager that ties them to a tuner.

pub mod assessor;
pub mod config;
pub mod hyperparameters;
pub mod limits;
pub mod lock;
pub mod manager;
pub mod objective;
pub mod pareto;
pub mod prefilter;
pub mod prefilter_section;
pub mod protocol;
pub mod service;
pub mod space;
pub mod status;
pub mod store;
pub mod verdict;

pub use lock::ManagerLock;
pub use status::{ExperimentStatus, TrialStatus};
