#!/usr/bin/env bash
# The main job: set up, build archon and its plugins, list the plugins, check the
# `random` tuner with the conformance kit, and drive it through a toy search space.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cargo build --release --locked -p archon -p archon-random >&2
archon=target/release/archon
echo "\$ archon plugins list"
"$archon" plugins list
echo
echo "\$ archon plugins check random"
"$archon" plugins check random
echo
echo "\$ archon demo --tuner random --trials ${ARCHON_DEMO_TRIALS:-24}"
"$archon" demo --tuner random --trials "${ARCHON_DEMO_TRIALS:-24}"
