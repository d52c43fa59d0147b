//! Judging a search by the ground truth (`archon bench quality`): where its exported
//! architecture ranks among a table's ([`percentile`]) — and among those within the
//! search's limits ([`limit`]) —, what random search finds in
//! the same wall time ([`baseline`]), how well the trained supernet ranks
//! architectures ([`ranking`]), and the networks `bench final` trains beside the
//! found one ([`contenders`]).

pub mod baseline;
pub mod contenders;
pub mod limit;
pub mod ranking;

use crate::ground_truth::table::Entry;
use archon_core::stats;

/// The percentile of `test` among the table's architectures (by mean test accuracy).
pub fn percentile(test: f64, entries: &[Entry]) -> f64 {
    let tests: Vec<f64> = entries.iter().map(Entry::test).collect();
    stats::percentile(test, &tests)
}
