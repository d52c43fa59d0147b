#!/usr/bin/env bash
# The main job: set up, build archon and its plugins, list the plugins, check the DARTS
# plugin, then run a real one-shot DARTS search on Fashion-MNIST on CPU
# (examples/darts-fmnist.toml: NAS-Bench-201's cell with 3 operations), export the
# architecture, train the found network for real (the whole training split, the final
# recipe, width 8, as many epochs as fit a 13-minute budget for search and training),
# report its accuracy on the full test set, its parameters and latency, and show where
# the cell ranks among all 729 architectures of the space trained from scratch (the
# ground-truth table in benchmarks/).
#
#   bash scripts/demo.sh                      the short DARTS search (a few minutes)
#   bash scripts/demo.sh CONFIG.toml          another search config (e.g. a full budget)
#   bash scripts/demo.sh classic              the classic multi-trial experiment instead
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cargo build --release --locked -p archon -p archon-random -p archon-evolution \
    -p archon-darts -p archon-pdarts -p archon-cdarts -p archon-gdas >&2
archon=target/release/archon
runs="${ARCHON_RUNS_DIR:-archon-runs}"
# Each run's output goes to stdout as it comes and, through tee, to a file the
# experiment id is read from. (Not `tee /dev/stderr`: when stderr is a redirected log
# file, tee reopens it with O_TRUNC and everything logged before is lost.)
captured="$(mktemp)"
trap 'rm -f "$captured"' EXIT
experiment_id() { sed -n 's/^experiment \([^ ]*\) (.*/\1/p' "$captured" | head -n 1; }
echo "\$ archon plugins list"
"$archon" plugins list
echo
if [ "${1:-}" = classic ]; then
    echo "\$ archon experiment run examples/classic-fmnist.toml"
    "$archon" experiment run examples/classic-fmnist.toml --runs-dir "$runs" | tee "$captured"
    id="$(experiment_id)"
    echo
    echo "\$ archon experiment export $id --top 3 --format table"
    "$archon" experiment export "$id" --top 3 --format table --runs-dir "$runs"
    exit 0
fi
config="${1:-examples/darts-fmnist.toml}"
echo "\$ archon plugins check darts"
"$archon" plugins check darts
echo
# The main job has a budget: the search, then as many epochs of the final training as
# fit (measured on this machine) into what is left of it.
budget=()
if [ "$config" = examples/darts-fmnist.toml ]; then
    budget=(--budget "${ARCHON_BUDGET:-13m}")
fi
echo "\$ archon search $config --retrain ${budget[*]}"
"$archon" search "$config" --retrain "${budget[@]}" --runs-dir "$runs" | tee "$captured"
id="$(experiment_id)"
echo
echo "\$ archon experiment show $id"
"$archon" experiment show "$id" --runs-dir "$runs"
# The main job's space has ground truth: every architecture trained from scratch under
# a short budget (benchmarks/README.md). Where does the found cell rank?
table=benchmarks/nb201-fmnist-3ops.jsonl
if [ "$config" = examples/darts-fmnist.toml ] && [ -f "$table" ]; then
    echo
    echo "\$ archon bench table $table --lookup $runs/$id/architecture.json"
    "$archon" bench table "$table" --lookup "$runs/$id/architecture.json" ||
        echo "(not in the table yet: it is still being made, see benchmarks/README.md)"
fi
