#!/usr/bin/env bash
# The GPU check: one prepared run for a machine with CUDA (say 16 cores and one large
# GPU, where every minute counts). It does the set-up, builds in release, runs the
# `cuda` test group, times `archon bench one-shot --device cuda` at NNI's yardstick
# (DARTS space width 8, 5 cells, batch 64, 28×28) and at the DARTS paper's CIFAR-like
# configuration (width 16, 8 cells, batch 64, 32×32), runs one real search + retrain on
# CUDA, and writes a short report (report.md, with every step's log) into REPORT_DIR.
# Budget: 10 minutes including set-up and build.
#
#   bash scripts/gpu-check.sh REPORT_DIR [--profile release|debug] [--no-setup] [--no-build]
#
# Without a CUDA device it says so in the report, skips the GPU steps and exits 0 (the
# CPU test suite runs it that way).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out="${1:-}"
if [ -z "$out" ] || [ "${out#-}" != "$out" ]; then
    echo "usage: bash scripts/gpu-check.sh REPORT_DIR [--profile release|debug] [--no-setup] [--no-build]" >&2
    exit 2
fi
shift
profile=release setup=1 build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --profile) profile="${2:-}"; shift 2 ;;
        --no-setup) setup=0; shift ;;
        --no-build) build=0; shift ;;
        *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$profile" in release|debug) ;; *) echo "gpu-check: --profile is release or debug" >&2; exit 2 ;; esac
mkdir -p "$out"
out="$(cd "$out" && pwd)"
report="$out/report.md"
start=$(date +%s)
failed=0

say() { echo "$*" | tee -a "$report"; }
# step NAME LOG COMMAND...: runs a step, logs it, records its time and status.
step() {
    local name="$1" log="$2"; shift 2
    local t0=$(date +%s)
    "$@" > "$out/$log" 2>&1
    local rc=$?
    local secs=$(( $(date +%s) - t0 ))
    if [ $rc -eq 0 ]; then
        say "- $name: ok (${secs} s, log $log)"
    else
        say "- $name: FAILED with exit code $rc (${secs} s, log $log)"
        failed=1
    fi
    return $rc
}

: > "$report"
say "# archon GPU check"
say ""
say "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
say "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) memory"
if command -v nvidia-smi >/dev/null 2>&1; then
    say "- GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
else
    say "- GPU: no nvidia-smi on this machine"
fi
say ""
say "## Steps"

if [ $setup = 1 ]; then
    step "set-up (libtorch from PyPI)" setup.log bash scripts/setup.sh || { say "set-up failed: nothing else can run"; exit 1; }
fi
if [ $build = 1 ]; then
    flag=(); [ "$profile" = release ] && flag=(--release)
    step "build ($profile, $(nproc) jobs)" build.log cargo build "${flag[@]}" --locked --workspace || { say "the build failed: nothing else can run"; exit 1; }
fi
archon="target/$profile/archon"
if [ ! -x "$archon" ]; then
    say "no $archon: build first (without --no-build)"
    exit 1
fi
"$archon" version > "$out/version.log" 2>&1
if ! grep -q "cuda available: true" "$out/version.log"; then
    say "- CUDA: libtorch sees no CUDA device ($(grep 'cuda available' "$out/version.log" || echo 'archon version failed')); the GPU steps are skipped"
    say ""
    say "Total: $(( $(date +%s) - start )) s. Skipped: no CUDA device."
    exit 0
fi
say "- CUDA: available to libtorch"

flag=(); [ "$profile" = release ] && flag=(--release)
step "cuda test group" tests.log cargo test "${flag[@]}" --locked -p archon-tests -- cuda:: --test-threads 1
step "bench one-shot, yardstick (width 8, 5 cells, batch 64, 28×28, 10,000 images)" bench-yardstick.log \
    "$archon" bench one-shot --device cuda --images 10000 --width 8 --cells 5 --batch 64
step "bench one-shot, second order (yardstick, 40 steps)" bench-order2.log \
    "$archon" bench one-shot --device cuda --images 10000 --width 8 --cells 5 --batch 64 --steps 40 --option order=2
step "bench one-shot, DARTS paper's CIFAR shape (width 16, 8 cells, batch 64, 32×32, 100 steps)" bench-cifar.log \
    "$archon" bench one-shot --device cuda --images 12800 --width 16 --cells 8 --batch 64 --image-size 32 --steps 100
cat > "$out/search.toml" <<'EOF'
name = "gpu-check"
seed = 1
[space]
builtin = "darts"
options = { width = 16, cells = 8, nodes = 4 }
[data]
dataset = "fashion-mnist"
train_subset = 10000
test_subset = 10000
channels = 3
pad_to = 32
[search]
algorithm = "darts"
epochs = 2
batch_size = 64
device = "cuda"
[retrain]
epochs = 2
lr = 0.05
train_subset = 20000
EOF
step "search + retrain on CUDA (DARTS, width 16, 8 cells, 2 epochs on 10,000 images; retrain 2 epochs on 20,000)" search.log \
    "$archon" search "$out/search.toml" --retrain --runs-dir "$out/runs"

say ""
say "## Figures"
for log in bench-yardstick bench-order2 bench-cifar; do
    [ -f "$out/$log.log" ] && grep -E "^(bench:|epoch:|peak|one weighted)" "$out/$log.log" | sed "s/^/- $log: /" | tee -a "$report"
done
[ -f "$out/search.log" ] && grep -E "genotype|retrained child|search took|epoch +[0-9]+:" "$out/search.log" | tail -8 | sed 's/^/- search: /' | tee -a "$report"
say ""
say "Total: $(( $(date +%s) - start )) s."
exit $failed
