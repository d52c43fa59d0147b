//! Ground truth for judging searches: tables of architectures trained from scratch
//! under one stated budget ([`table`]), made in parallel worker processes ([`run`],
//! [`worker`]), summarised ([`report`]) with rank statistics (`archon_core::stats`).

pub mod report;
pub mod run;
pub mod table;
pub mod worker;
