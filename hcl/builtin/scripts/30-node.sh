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
  arch=$(dpkg --print-architecture)
  case "$arch" in amd64) narch=x64 ;; arm64) narch=arm64 ;; *) echo "unsupported arch $arch" >&2; exit 1 ;; esac
  registry=https://registry.npmjs.org
  work=$(mktemp -d)
  tarball=$(curl -fsSL "$registry/node-linux-$narch/$NODE_MAJOR" | sed -n 's/.*"tarball":"\([^"]*\)".*/\1/p')
  curl -fsSL "$tarball" | tar -xz -C "$work"
  install -m 0755 "$work/package/bin/node" /usr/local/bin/node
  npm_tarball=$(curl -fsSL "$registry/npm/11" | sed -n 's/.*"tarball":"\([^"]*\)".*/\1/p')
  install -d /usr/local/lib/node_modules/npm
  curl -fsSL "$npm_tarball" | tar -xz -C /usr/local/lib/node_modules/npm --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
  rm -rf "$work"
  ;;
esac
node --version
