//! Integration tests over the real built artifacts: the `archon` binary, the plugin
//! libraries in `plugins/`, the failure fixtures in `tests/fixtures/` and the
//! out-of-tree example plugin. Build the workspace first (`cargo build --workspace`;
//! `scripts/test.sh` does).

mod conformance;
mod cuda;
mod experiments;
mod export;
mod failures;
mod fuzz;
mod ground_truth;
mod hostile;
mod limits;
mod managers;
mod nni_configs;
mod nni_trials;
mod one_shot;
mod one_shot_sampling;
mod panics;
mod plugins_cli;
mod slurm;
mod spaces_cli;
mod table_trials;
mod tensor;
mod third_party;
mod web_ui;
