#!/usr/bin/env bash
# PBT against random search at the same number of epochs, on a real training task that
# continues from checkpoints: a one-hidden-layer network on scikit-learn's digits
# (bench/pbt/trial.py, numpy SGD with momentum; lr and momentum searched). PBT: 8
# members × 10 generations of one epoch; random: 8 configurations × 10 epochs. Prints
# the best validation accuracy of each per seed and the mean.
#   bash bench/pbt.sh [--seeds N]          (needs `bash scripts/setup.sh` and a build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seeds=3
while [ $# -gt 0 ]; do
    case "$1" in
        --seeds) seeds="$2"; shift 2 ;;
        *) echo "usage: bash bench/pbt.sh [--seeds N]" >&2; exit 2 ;;
    esac
done
# The binary whose folder holds the plugins (release if they were built there).
archon="$root/target/release/archon"
[ -f "$root/target/release/libarchon_pbt.so" ] || archon="$root/target/debug/archon"
export PYTHONPATH="$root/.libtorch/sklearn-python${PYTHONPATH:+:$PYTHONPATH}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$root"/bench/pbt/{trial.py,search_space.json} "$work/"
best() { # config -> the experiment's best metric
    local out id
    out="$("$archon" -q experiment run "$1" --runs-dir "$work/runs" 2>/dev/null)"
    id="$(sed -n 's/^experiment \([^:]*\):.*/\1/p' <<<"$out" | head -1)"
    "$archon" experiment export "$id" --runs-dir "$work/runs" --top 1 |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["metric"])'
}
{
printf '%-6s %-10s %-10s\n' seed pbt random
for seed in $(seq 0 $((seeds - 1))); do
    for tuner in pbt random; do
        sed "s/^seed = 0/seed = $seed/" "$root/bench/pbt/$tuner.toml" >"$work/$tuner.toml"
    done
    rm -rf "$work/checkpoints"
    printf '%-6s %-10.4f %-10.4f\n' "$seed" "$(best "$work/pbt.toml")" "$(best "$work/random.toml")"
done
} | tee "$work/table"
python3 - "$work/table" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:]]
for i, name in ((1, 'pbt'), (2, 'random')):
    v = [float(r[i]) for r in rows]
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    print(f'{name:<8} mean {statistics.mean(v):.4f} ± {sd:.4f} over {len(v)} seeds')
PY
