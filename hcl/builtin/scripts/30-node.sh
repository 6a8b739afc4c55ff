#!/bin/sh
# Node.js from NodeSource's apt repository, or from the npm registry's
# node package (for networks that only reach the npm registry).
set -eu
case "$NODE_SOURCE" in
nodesource)
  curl -fsSL "https://deb.nodesource.com/setup_${NODE_MAJOR}.x" -o /tmp/nodesource_setup.sh
  bash /tmp/nodesource_setup.sh
  rm -f /tmp/nodesource_setup.sh
  apt-get install -y nodejs
  ;;
npm)
  # The npm registry's node-linux-<arch> package holds bin/node only; npm
  # comes from the npm package. Both pinned to the newest release of the
  # major asked for.
  arch=$(dpkg --print-architecture)
  case "$arch" in amd64) narch=x64 ;; arm64) narch=arm64 ;; *) echo "unsupported arch $arch" >&2; exit 1 ;; esac
  registry=https://registry.npmjs.org
  newest() {
    curl -fsSL "$registry/$1" | python3 -c '
import json, sys
doc, major = json.load(sys.stdin), sys.argv[1]
vs = [v for v in doc["versions"] if v.split(".")[0] == major and "-" not in v]
vs.sort(key=lambda v: tuple(int(x) for x in v.split(".")))
print(doc["versions"][vs[-1]]["dist"]["tarball"])' "$2"
  }
  work=$(mktemp -d)
  curl -fsSL "$(newest "node-linux-$narch" "$NODE_MAJOR")" | tar -xz -C "$work"
  install -m 0755 "$work/package/bin/node" /usr/local/bin/node
  install -d /usr/local/lib/node_modules/npm
  curl -fsSL "$(newest npm 11)" | tar -xz -C /usr/local/lib/node_modules/npm --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
  rm -rf "$work"
  ;;
esac
node --version
