#!/bin/sh
# OpenClaw for a dedicated unprivileged user (no password, no sudo) with its
# own npm prefix.
set -eu
id openclaw >/dev/null 2>&1 || useradd --create-home --shell /bin/bash openclaw
passwd -l openclaw >/dev/null
home=/home/openclaw
as_openclaw() { runuser -u openclaw -- env HOME="$home" PATH="$home/.npm-global/bin:$PATH" "$@"; }
as_openclaw npm config set prefix "$home/.npm-global"
# Build-time CA certificates (--ca-cert) are passed per command, so no npm
# config in the image points at a file generalize removes.
cafile=
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then cafile="--cafile=$NODE_EXTRA_CA_CERTS"; fi
as_openclaw npm install -g $cafile --allow-scripts=@google/genai,koffi,protobufjs,openclaw "openclaw@${OPENCLAW_VERSION}"
as_openclaw npm cache clean --force
as_openclaw openclaw --version
