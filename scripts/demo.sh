#!/usr/bin/env bash
# make demo: the main job end to end — bake the built-in recipe, launch a VM
# from it, verify it. Runs what clawimg can do today and says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
clawimg=./bin/clawimg
export CLAWIMG_HOME=${CLAWIMG_HOME:-$PWD/build/demo-home}

step() { printf '\n==> %s\n' "$*"; }

step "clawimg $($clawimg --version | cut -d' ' -f2-)"
step "The built-in OpenClaw recipe"
$clawimg validate
$clawimg inspect

missing=()
for cmd in build launch verify; do
  if out=$($clawimg "$cmd" --help >/dev/null 2>&1 && $clawimg "$cmd" 2>&1); then :; fi
  if grep -q 'not implemented yet' <<<"${out:-}"; then missing+=("$cmd"); fi
done
if ((${#missing[@]})); then
  step "Not built yet: ${missing[*]}"
  echo "The demo stops here: clawimg cannot yet ${missing[*]} (see the open issues)."
  exit 0
fi
