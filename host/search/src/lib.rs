//! One-shot NAS: the host's half of the supernet contract (see DESIGN.md). The host
//! builds the supernet, owns weights, data and the weight optimizer, and lends them to
//! a one-shot trainer plugin epoch by epoch, recording what it reports.

mod checkpoint;
pub mod config;
mod epochs;
mod host;
mod limits;
mod prepare;
mod recorder;
mod run;

pub use config::SearchConfig;
pub use host::{SearchHost, WeightOptim, SUPERNET_OPTIONS, SUPERNET_WEIGHTS};
pub use prepare::RunOptions;
pub use prepare::{prepare, Prepared};
pub use recorder::metric_text;
pub use run::{run, Outcome, CHILD_WEIGHTS};
