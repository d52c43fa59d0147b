#!/usr/bin/env bash
# Measures the classic tuners, the proxy pre-filter, the multi-fidelity tuners, the
# two-objective search and the zero-cost proxies on the ground-truth table, and writes
# each report (the command first) into benchmarks/results/. About 25 minutes on 2
# cores; table look-ups only, nothing is trained. Run it again after the table grows.
#   bash benchmarks/measure-search.sh [SEEDS]      (default 20)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh >&2
cargo build --release --locked --workspace >&2
archon=target/release/archon
table=benchmarks/nb201-fmnist-3ops.jsonl
seeds=${1:-20}
out=benchmarks/results
mkdir -p "$out"

# One report: its command line, then what it printed.
measure() {
    local name=$1
    shift
    echo "[measure] $name: archon $*" >&2
    { echo "\$ archon $*"; "$archon" "$@"; } > "$out/$name.txt.tmp"
    mv "$out/$name.txt.tmp" "$out/$name.txt"
}

measure table bench table "$table" --against benchmarks/nb201-fmnist-3ops-long.jsonl
measure tuners bench tuners --table "$table" --tuners random,evolution,ppo,tpe \
    --trials 100 --seeds "$seeds"
measure prefilter bench tuners --table "$table" \
    --tuners random,random@synflow,random@params,evolution@synflow,tpe@synflow,tpe@params \
    --trials 100 --seeds "$seeds" --prefilter-sample 1000 --prefilter-keep 10
measure multi-fidelity-rerun bench tuners --table "$table" --tuners random,asha,hyperband,bohb \
    --trials 100 --seeds "$seeds" --promotions rerun
measure multi-fidelity-resume bench tuners --table "$table" --tuners random,asha,hyperband,bohb \
    --trials 100 --seeds "$seeds" --promotions resume
# Rungs ranked by training speed estimation (the sum of training losses so far).
tse=()
for t in asha hyperband bohb; do tse+=(--option "$t.promote_by=tse"); done
measure multi-fidelity-tse bench tuners --table "$table" \
    --tuners random,asha,hyperband,bohb,asha@synflow,hyperband@synflow,bohb@synflow \
    --trials 100 --seeds "$seeds" --promotions resume "${tse[@]}"
measure objectives bench tuners --table "$table" --tuners random,nsga2,evolution,tpe \
    --objectives valid:max,params:min --trials 100 --seeds "$seeds"
for seed in 0 1; do
    measure "proxies-seed$seed" score --table "$table" --seed "$seed"
done
echo "[measure] done: $out" >&2
