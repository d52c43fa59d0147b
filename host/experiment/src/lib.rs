//! Classic (multi-trial) NAS experiments: the config, trials run by a training service
//! (local processes or Slurm jobs), and the manager that ties them to a tuner and to the
//! experiment's store (`archon-store`).

pub mod assessor;
pub mod config;
pub mod curve_fitting;
pub mod hyperparameters;
pub mod limits;
pub mod manager;
pub mod nni_config;
pub mod nni_export;
pub mod nni_trial;
pub mod objective;
pub mod pareto;
pub mod prefilter;
pub mod prefilter_section;
pub mod python_assessor;
pub mod service;
pub mod space;
pub mod verdict;

pub use archon_store::{lock::ManagerLock, ExperimentStatus, TrialStatus};
