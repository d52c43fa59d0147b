#!/usr/bin/env bash
# The NNI peer benchmark, run by hand (not in CI): NNI 3.0's own DARTS and archon's, on
# the same configuration, one after the other in this one run, and their ratios.
#
#   bash bench/peers/nni-darts.sh [--images 10000] [--runs 1] [--venv DIR]
#
# The configuration: DARTS space width 8, 5 cells, batch 64, Fashion-MNIST replicated to
# 3x28x28, N images split half weights / half architecture, first-order DARTS (NNI:
# arch Adam 3e-4 (0.5, 0.999) wd 1e-3, weights SGD 0.025 momentum 0.9 wd 3e-4, clip 5,
# constant LR), 2 threads, one epoch. The epoch is timed without start-up or
# validation on both sides (NNI: Lightning's train-epoch callbacks; archon: `archon bench
# one-shot`), and per step after a warm-up of 3 steps. NNI and its PyTorch stack go
# into a throw-away virtual environment from PyPI (torch 2.15.0, ~6 GB with its CUDA
# libraries; it runs on the CPU). At 10,000 images NNI's side takes ~15 minutes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
images=10000 runs=1 venv="${ARCHON_CACHE:-$HOME/.cache/archon}/nni-venv"
while [ $# -gt 0 ]; do
    case "$1" in
        --images) images="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --venv) venv="$2"; shift 2 ;;
        *) echo "nni-darts: unknown argument $1" >&2; exit 2 ;;
    esac
done

source bench/peers/nni-venv.sh
bash scripts/setup.sh >&2
cargo build --release --locked -p archon -p archon-darts >&2

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for run in $(seq 1 "$runs"); do
    echo "[peers] run $run of $runs: NNI, $images images" >&2
    "$venv/bin/python" bench/peers/nni_darts.py --images "$images" > "$out/nni-$run.log" 2>&1 \
        || { tail -20 "$out/nni-$run.log" >&2; exit 1; }
    grep '^PEER_RESULT ' "$out/nni-$run.log" | tail -1 | cut -d' ' -f2- > "$out/nni-$run.json"
    echo "[peers] run $run of $runs: archon, $images images" >&2
    /usr/bin/time -v target/release/archon bench one-shot --images "$images" \
        > "$out/archon-$run.txt" 2> "$out/archon-$run.time"
done

python3 - "$out" "$runs" "$images" <<'PY'
import json, re, statistics, sys
out, runs, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = []
for r in range(1, runs + 1):
    nni = json.load(open(f"{out}/nni-{r}.json"))
    text = open(f"{out}/archon-{r}.txt").read()
    epoch = float(re.search(r"^epoch: ([0-9.]+) s", text, re.M).group(1))
    step = re.search(r"one weighted forward\+backward: ([0-9.]+) ms", text)
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                            open(f"{out}/archon-{r}.time").read()).group(1))
    rows.append((nni["epoch_seconds"], epoch, nni["peak_rss_gib"], rss_kib / 2**20,
                 nni.get("step_seconds_after_warmup")))
    print(f"run {r}: NNI epoch {nni['epoch_seconds']:.1f} s ({nni['steps']} steps, "
          f"{nni.get('step_seconds_after_warmup') or float('nan'):.3f} s/step after warm-up), "
          f"peak {nni['peak_rss_gib']:.2f} GiB | archon epoch {epoch:.1f} s, peak {rss_kib / 2**20:.2f} GiB")
med = lambda i: statistics.median(r[i] for r in rows)
print(f"{images} images, median of {runs} run(s), measured in this one run:")
print(f"  epoch: NNI {med(0):.1f} s, archon {med(1):.1f} s: archon is {med(0) / med(1):.2f}x as fast")
print(f"  peak memory: NNI {med(2):.2f} GiB, archon {med(3):.2f} GiB: {med(3) / med(2):.2f}x NNI's")
PY
