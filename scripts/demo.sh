#!/usr/bin/env bash
# make demo: the main job end to end — bake the built-in OpenClaw recipe,
# launch a VM from it, verify it, and show how to connect. Where Ubuntu's cloud image
# cannot be fetched (offline, or a network like a CI sandbox), it says so
# and bakes the same recipe on the locally built Debian base instead.
set -euo pipefail
cd "$(dirname "$0")/.."
clawimg=./bin/clawimg
export CLAWIMG_HOME=${CLAWIMG_HOME:-$PWD/build/demo-home}

step() { printf '\n==> %s\n' "$*"; }

step "clawimg $($clawimg --version | cut -d' ' -f2-), data in $CLAWIMG_HOME"
$clawimg doctor || true

step "The built-in OpenClaw recipe"
$clawimg validate

ubuntu=https://cloud-images.ubuntu.com/releases/24.04/release/SHA256SUMS
vars=()
if curl -fsS --max-time 15 -o /dev/null "$ubuntu" 2>/dev/null; then
  step "Building on Ubuntu 24.04 (reachable)"
else
  step "Ubuntu's cloud images cannot be fetched from here: using the local Debian 12 base (make fixture)"
  make --no-print-directory fixture
  vars=(-var "base_url=$PWD/build/fixture/base.qcow2" -var base_checksum=none -var base_user=debian
    -var node_source=npm --ca-cert /etc/ssl/certs/ca-certificates.crt)
fi

step "Build, then warm: boot it once and save the running, ready VM (under software emulation"
echo "    this takes tens of minutes; with KVM a few)"
$clawimg build -t openclaw:demo --warm "${vars[@]}"
$clawimg image inspect openclaw:demo

step "Launch: restored from the warm state in seconds (the API key, if any, from"
echo "    \$ANTHROPIC_API_KEY, never a flag; with one, the gateway restarts once to read it)"
$clawimg delete openclaw-demo >/dev/null 2>&1 || true
$clawimg launch openclaw:demo --name openclaw-demo --driver qemu --timeout 20m
$clawimg list

step "Isolation probes, inside the VM"
if ! $clawimg verify openclaw-demo; then
  if $clawimg doctor 2>/dev/null | grep -q 'accelerator.*tcg'; then
    echo "(under software emulation the OpenClaw gateway cannot start: its 5 s start-up deadline is"
    echo " too short for an emulated CPU; with KVM or HVF every probe passes)"
  else
    echo "(a probe failed: see above)"
  fi
fi

step "Connect"
echo "  clawimg shell openclaw-demo"
echo "  clawimg verify openclaw-demo"
echo "  clawimg delete openclaw-demo    # when done; launch another any time"
