#!/usr/bin/env bash
# The final-training recipe's ablation (README "Final training"): one network (the
# all-convolution NAS-Bench-201 cell at width 8, 92 k parameters) trained on the whole
# Fashion-MNIST training split less 5,000 held-out validation images, under the classic
# recipe, the final recipe, and the final recipe less one part at a time. Choices are
# made on the validation accuracy; the test accuracy (full 10,000 images) is printed
# once per run. Resumable: a variant whose log exists is not run again.
#
#   bash benchmarks/recipe-ablation.sh [EPOCHS] [SEED]    (default 6 epochs, seed 0)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
epochs="${1:-6}"
seed="${2:-0}"
archon=target/release/archon
out="${ARCHON_ABLATION_DIR:-archon-runs/recipe-ablation}/e${epochs}-s${seed}"
mkdir -p "$out"
arch='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
common=(--space nas-bench-201 --option width=8 --option cells_per_stage=1
    --option ops=skip_connect,nor_conv_3x3,avg_pool_3x3 --arch "$arch"
    --epochs "$epochs" --batch-size 128 --lr 0.1 --holdout 5000 --seed "$seed" --device cpu)
variants=(
    "classic|--recipe classic"
    "final|--recipe final"
    "final-no-standardize|--recipe final --standardize false"
    "final-no-smoothing|--recipe final --label-smoothing 0"
    "final-no-erasing|--recipe final --erasing 0"
    "final-epoch-cosine-no-warmup|--recipe final --per-step-schedule false --warmup-epochs 0"
    "final-sgd|--recipe final --optimizer sgd"
    "final-ema|--recipe final --ema-decay 0.998"
)
printf '%-30s %8s %8s %8s\n' variant valid test seconds
for v in "${variants[@]}"; do
    name="${v%%|*}"
    read -r -a flags <<<"${v#*|}"
    log="$out/$name.log"
    if [ ! -s "$log" ] || ! grep -q '^test accuracy' "$log"; then
        "$archon" train "${common[@]}" "${flags[@]}" >"$log.partial" 2>&1
        mv "$log.partial" "$log"
    fi
    valid="$(sed -n 's/^validation accuracy \([0-9.]*\)/\1/p' "$log")"
    test="$(sed -n 's/^test accuracy \([0-9.]*\) after \([0-9.]*\) s/\1/p' "$log")"
    secs="$(sed -n 's/^test accuracy \([0-9.]*\) after \([0-9.]*\) s/\2/p' "$log")"
    printf '%-30s %8s %8s %8s\n' "$name" "$valid" "$test" "$secs"
done
