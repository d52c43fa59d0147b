#!/usr/bin/env bash
# One-time (idempotent) set-up for a fresh machine: Debian packages, libtorch from
# PyPI's torch wheel, and the project-local `.libtorch` link that cargo builds against.
#
# libtorch is installed once per version into a cache outside the clone
# (ARCHON_CACHE, default ~/.cache/archon) so that fresh clones (CI) reuse it.
set -euo pipefail

TORCH_VERSION=2.13.0   # the version tch 0.26 expects (see plugin-api's TENSOR_LAYER)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${ARCHON_CACHE:-$HOME/.cache/archon}"
dest="$cache/torch-$TORCH_VERSION"

say() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------
need_apt=()
[ -d /usr/share/datasets/fashion-mnist ] || need_apt+=(dataset-fashion-mnist)
[ -f /usr/share/games/fortunes/people ] || need_apt+=(fortunes)
command -v cc >/dev/null || need_apt+=(gcc g++)
command -v chromium >/dev/null || need_apt+=(chromium)   # the web UI's browser tests
if [ ${#need_apt[@]} -gt 0 ]; then
    say "installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# --- libtorch from the torch wheel -----------------------------------------------
if [ ! -f "$dest/.archon-complete" ]; then
    say "installing torch==$TORCH_VERSION from PyPI into $dest (about 80 s, 4.7 GB)"
    mkdir -p "$cache"
    rm -rf "$dest.partial"
    python3 -m pip install --quiet --no-input --disable-pip-version-check \
        --target "$dest.partial" "torch==$TORCH_VERSION"
    installed="$(sed -n "s/^__version__ = '\(.*\)'/\1/p" "$dest.partial/torch/version.py")"
    case "$installed" in
        "$TORCH_VERSION"|"$TORCH_VERSION"+*) ;;
        *) say "error: pip installed torch '$installed', expected $TORCH_VERSION"; exit 1 ;;
    esac
    rm -rf "$dest"
    mv "$dest.partial" "$dest"
    touch "$dest/.archon-complete"
fi

# ONNX export (archon … --export onnx) converts the TorchScript module with the
# wheel's torch and these packages, and checks it with ONNX Runtime; they live in the
# torch folder's onnx-python sub-folder, where archon looks for them.
ONNX_PACKAGES=(onnx==1.23.2 onnxscript==0.7.2 onnxruntime==1.32.0)
if [ ! -f "$dest/onnx-python/.archon-complete" ]; then
    say "installing ${ONNX_PACKAGES[*]} into $dest/onnx-python (about 10 s)"
    rm -rf "$dest/onnx-python.partial"
    python3 -m pip install --quiet --no-input --disable-pip-version-check \
        --target "$dest/onnx-python.partial" "${ONNX_PACKAGES[@]}"
    rm -rf "$dest/onnx-python"
    mv "$dest/onnx-python.partial" "$dest/onnx-python"
    touch "$dest/onnx-python/.archon-complete"
fi

# scikit-learn for the NNI example experiment (examples/nni-sklearn: an NNI user's trial
# that imports sklearn), in the torch folder's sklearn-python sub-folder; the tests put it
# on the trials' PYTHONPATH.
SKLEARN_PACKAGES=(scikit-learn==1.6.1)
if [ ! -f "$dest/sklearn-python/.archon-complete" ]; then
    say "installing ${SKLEARN_PACKAGES[*]} into $dest/sklearn-python (about 20 s)"
    rm -rf "$dest/sklearn-python.partial"
    python3 -m pip install --quiet --no-input --disable-pip-version-check \
        --target "$dest/sklearn-python.partial" "${SKLEARN_PACKAGES[@]}"
    rm -rf "$dest/sklearn-python"
    mv "$dest/sklearn-python.partial" "$dest/sklearn-python"
    touch "$dest/sklearn-python/.archon-complete"
fi

# The project-local, git-ignored folder that .cargo/config.toml points tch at.
if [ "$(readlink "$root/.libtorch" 2>/dev/null)" != "$dest" ]; then
    rm -rf "$root/.libtorch"
    ln -s "$dest" "$root/.libtorch"
fi
say "libtorch $TORCH_VERSION ready at .libtorch -> $dest"
