#!/usr/bin/env bash
# Makes (or resumes) the ground-truth tables in this folder. Hours on 2 cores; every
# finished training is kept, so run it again after a kill and it goes on.
#   bash benchmarks/make-tables.sh            the 3-op NAS-Bench-201 table (all 729, seeds 0 and 1)
#   bash benchmarks/make-tables.sh long       30 of them under a 4x longer budget (24 epochs)
# Flags after that go to `archon bench ground-truth` (e.g. --workers 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo build --release --locked -p archon >&2
archon=target/release/archon
space=(--space nas-bench-201 --option width=4 --option cells_per_stage=1
       --option ops=skip_connect,nor_conv_3x3,avg_pool_3x3)
budget=(--train-subset 3000 --valid-subset 1000 --test-subset 1000 --batch-size 32 --lr 0.05)
mode=default
if [ "${1:-}" = long ]; then mode=long; shift; fi
if [ "$mode" = long ]; then
    "$archon" bench ground-truth "${space[@]}" "${budget[@]}" --epochs 24 \
        --archs-from benchmarks/nb201-fmnist-3ops.jsonl --sample 30 --seeds 0 \
        --out benchmarks/nb201-fmnist-3ops-long.jsonl "$@"
else
    "$archon" bench ground-truth "${space[@]}" "${budget[@]}" --epochs 6 \
        --all --seeds 0,1 --out benchmarks/nb201-fmnist-3ops.jsonl "$@"
fi
