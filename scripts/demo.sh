#!/usr/bin/env bash
# The main job: set up, build archon and its plugins, list and check the plugins, then
# run a real classic NAS experiment on Fashion-MNIST (examples/classic-fmnist.toml:
# the random tuner proposes NAS-Bench-201 networks, each trial trains one on CPU) and
# export the best architectures.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cargo build --release --locked -p archon -p archon-random -p archon-evolution >&2
archon=target/release/archon
runs="${ARCHON_RUNS_DIR:-archon-runs}"
echo "\$ archon plugins list"
"$archon" plugins list
echo
echo "\$ archon plugins check random"
"$archon" plugins check random
echo
echo "\$ archon experiment run examples/classic-fmnist.toml"
out="$("$archon" experiment run examples/classic-fmnist.toml --runs-dir "$runs" | tee /dev/stderr)"
id="$(printf '%s\n' "$out" | sed -n 's/^experiment \([^ ]*\) (.*/\1/p' | head -n 1)"
echo
echo "\$ archon experiment export $id --top 3 --format table"
"$archon" experiment export "$id" --top 3 --format table --runs-dir "$runs"
