#!/usr/bin/env bash
# Runs every test of the workspace on a fresh or warm machine: set-up (Debian
# packages, libtorch), a build of every crate (plugins and test fixtures are cdylibs
# that the integration tests load), a single-node Slurm (scripts/slurm-dev.sh) for the
# Slurm tests, then the tests (the Python `nni` module's, then the workspace's).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
echo "[test] building the workspace" >&2
cargo build --workspace --locked
echo "[test] starting a single-node Slurm for the Slurm tests" >&2
bash scripts/slurm-dev.sh start >/dev/null
trap 'bash scripts/slurm-dev.sh stop' EXIT
echo "[test] the nni module archon ships (python/)" >&2
python3 -m unittest discover -s python/tests
echo "[test] running the tests" >&2
cargo test --workspace --locked "$@"
