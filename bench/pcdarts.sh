#!/usr/bin/env bash
# PC-DARTS against DARTS, one after the other in this one run (not in CI): `archon bench
# one-shot` on the DARTS space (width 8, 5 cells, batch 64, Fashion-MNIST as 3x28x28,
# N images split half weights / half architecture, first order, 2 threads) for both,
# alternating, R runs; medians of the epoch time, weight-training images/s, one
# weighted step and peak resident memory.
#
#   bash bench/pcdarts.sh [--images 2000] [--runs 3] [--k 4]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
images=2000 runs=3 k=4
while [ $# -gt 0 ]; do
    case "$1" in
        --images) images="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --k) k="$2"; shift 2 ;;
        *) echo "pcdarts: unknown argument $1" >&2; exit 2 ;;
    esac
done
bash scripts/setup.sh >&2
cargo build --release --locked -p archon -p archon-darts -p archon-pcdarts >&2
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for run in $(seq 1 "$runs"); do
    echo "[pcdarts] run $run of $runs: DARTS" >&2
    target/release/archon bench one-shot --images "$images" > "$out/darts-$run.txt" 2>&1
    echo "[pcdarts] run $run of $runs: PC-DARTS, K = $k" >&2
    target/release/archon bench one-shot --images "$images" --algorithm pcdarts \
        --option "partial_channels=$k" > "$out/pcdarts-$run.txt" 2>&1
done
python3 - "$out" "$runs" "$images" "$k" <<'PY'
import re, statistics, sys
out, runs, images, k = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def figures(text):
    return {
        "epoch": float(re.search(r"^epoch: ([0-9.]+) s", text, re.M).group(1)),
        "images/s": float(re.search(r"([0-9.]+) weight-training images/s", text).group(1)),
        "step": float(re.search(r"one weighted forward\+backward: ([0-9.]+) ms", text).group(1)),
        "memory": float(re.search(r"peak resident memory: ([0-9.]+) GiB", text).group(1)),
    }
sides = {}
for side in ("darts", "pcdarts"):
    rows = [figures(open(f"{out}/{side}-{r}.txt").read()) for r in range(1, runs + 1)]
    sides[side] = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    for r, row in enumerate(rows, 1):
        print(f"run {r} {side:8}: epoch {row['epoch']:.1f} s, {row['images/s']:.1f} weight images/s, "
              f"weighted step {row['step']:.0f} ms, peak {row['memory']:.2f} GiB")
d, p = sides["darts"], sides["pcdarts"]
print(f"{images} images, K = {k}, medians of {runs} run(s), measured in this one run:")
print(f"  epoch: DARTS {d['epoch']:.1f} s, PC-DARTS {p['epoch']:.1f} s: {d['epoch'] / p['epoch']:.2f}x as fast")
print(f"  weighted step: DARTS {d['step']:.0f} ms, PC-DARTS {p['step']:.0f} ms: {d['step'] / p['step']:.2f}x")
print(f"  peak memory: DARTS {d['memory']:.2f} GiB, PC-DARTS {p['memory']:.2f} GiB: {p['memory'] / d['memory']:.2f}x DARTS's")
PY
