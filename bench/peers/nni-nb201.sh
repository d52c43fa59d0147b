#!/usr/bin/env bash
# Time to a good architecture, NNI against archon on the same space (run by hand, not in
# CI): NNI 3.0's own DARTS (bench/peers/nni_nb201.py) and archon's DARTS and PC-DARTS
# (examples/darts-fmnist.toml, examples/pcdarts-fmnist.toml: search only) on the main
# job's space — NAS-Bench-201's cell with skip_connect, nor_conv_3x3 and avg_pool_3x3,
# width 4, one cell per stage — with the same data (a seeded subset of 4,000
# Fashion-MNIST images, half weights, half architecture), epochs (8), batch (64) and
# threads (2), one after the other in this one run, S seeds each. Each side's exported
# architecture, and the architecture it would export after each epoch, is judged by the
# same ground-truth table (benchmarks/nb201-fmnist-3ops.jsonl: its percentile among the
# 729 architectures, as `archon bench quality` computes it). Reported per side, medians
# over seeds: search seconds (the search itself), the pick's percentile, and the
# seconds from launch (start-up included: Python imports, data, building the network)
# to the end of the first epoch whose architecture is at or above the 90th percentile.
#
#   bash bench/peers/nni-nb201.sh [--seeds 3] [--venv DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
seeds=3 venv="${ARCHON_CACHE:-$HOME/.cache/archon}/nni-venv"
while [ $# -gt 0 ]; do
    case "$1" in
        --seeds) seeds="$2"; shift 2 ;;
        --venv) venv="$2"; shift 2 ;;
        *) echo "nni-nb201: unknown argument $1" >&2; exit 2 ;;
    esac
done
source bench/peers/nni-venv.sh
bash scripts/setup.sh >&2
cargo build --release --locked -p archon -p archon-darts -p archon-pcdarts >&2

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for seed in $(seq 0 $((seeds - 1))); do
    echo "[peers] seed $seed: NNI DARTS" >&2
    "$venv/bin/python" bench/peers/nni_nb201.py --seed "$seed" > "$out/nni-$seed.log" 2>&1 \
        || { tail -20 "$out/nni-$seed.log" >&2; exit 1; }
    grep '^PEER_RESULT ' "$out/nni-$seed.log" | tail -1 | cut -d' ' -f2- > "$out/nni-$seed.json"
    for side in darts pcdarts; do
        echo "[peers] seed $seed: archon $side" >&2
        sed "s/^seed = 0$/seed = $seed/" "examples/$side-fmnist.toml" > "$out/$side-$seed.toml"
        start="$(date +%s.%N)"
        target/release/archon search "$out/$side-$seed.toml" --runs-dir "$out/runs-$side-$seed" \
            > "$out/$side-$seed.log" 2>&1 || { tail -20 "$out/$side-$seed.log" >&2; exit 1; }
        echo "$start" > "$out/$side-$seed.start"
    done
done

python3 - "$out" "$seeds" benchmarks/nb201-fmnist-3ops.jsonl <<'PY'
import glob, json, re, sqlite3, statistics, sys
out, seeds, table = sys.argv[1], int(sys.argv[2]), sys.argv[3]

# The table: mean final test accuracy over seeds per architecture key.
tests = {}
for line in open(table):
    row = json.loads(line)
    if "key" not in row:
        continue
    tests.setdefault(row["key"], []).append(row["epochs"][-1]["test"])
population = [sum(v) / len(v) for v in tests.values()]
ORDER = ["edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2"]

def key(arch):
    op = lambda label: f"{arch[label]['_value']}~{label[-1]}"
    return f"|{op('edge_1_0')}|+|{op('edge_2_0')}|{op('edge_2_1')}|+|{op('edge_3_0')}|{op('edge_3_1')}|{op('edge_3_2')}|"

def percentile(arch):
    values = tests[key(arch)]
    value = sum(values) / len(values)
    below = sum(p < value for p in population)
    equal = sum(p == value for p in population)
    return 100.0 * (below + equal / 2) / len(population)

def to_90(epochs):
    """Seconds from launch to the end of the first epoch at or above the 90th percentile."""
    for seconds, arch in epochs:
        if percentile(arch) >= 90.0:
            return seconds
    return None

sides = {"NNI DARTS": [], "archon DARTS": [], "archon PC-DARTS": []}
for seed in range(seeds):
    nni = json.load(open(f"{out}/nni-{seed}.json"))
    sides["NNI DARTS"].append((seed, nni["search_seconds"], percentile(nni["architecture"]),
                               to_90([(e["seconds"], e["architecture"]) for e in nni["epochs"]])))
    for side, name in (("darts", "archon DARTS"), ("pcdarts", "archon PC-DARTS")):
        start = float(open(f"{out}/{side}-{seed}.start").read())
        log = open(f"{out}/{side}-{seed}.log").read()
        search = float(re.search(r"search took ([0-9.]+) s", log).group(1))
        db = glob.glob(f"{out}/runs-{side}-{seed}/*/experiment.db")[0]
        rows = sqlite3.connect(db).execute(
            "SELECT time, architecture FROM search_epochs ORDER BY epoch").fetchall()
        epochs = [(t - start, json.loads(a)) for t, a in rows if a]
        final = json.load(open(glob.glob(f"{out}/runs-{side}-{seed}/*/architecture.json")[0]))
        sides[name].append((seed, search, percentile(final), to_90(epochs)))

print(f"{'side':16} {'seed':>4} {'search s':>9} {'percentile':>10} {'s to 90th pct':>14}")
for name, rows in sides.items():
    for seed, search, pct, t90 in rows:
        t = f"{t90:.1f}" if t90 is not None else "never"
        print(f"{name:16} {seed:4d} {search:9.1f} {pct:10.1f} {t:>14}")
print(f"medians over {seeds} seed(s), measured in this one run:")
for name, rows in sides.items():
    reached = [r[3] for r in rows if r[3] is not None]
    t90 = f"{statistics.median(reached):.1f} s ({len(reached)} of {len(rows)} seeds reach it)" if reached else "never"
    print(f"  {name:16} search {statistics.median(r[1] for r in rows):.1f} s, percentile "
          f"{statistics.median(r[2] for r in rows):.1f}, to the 90th percentile {t90}")
PY
