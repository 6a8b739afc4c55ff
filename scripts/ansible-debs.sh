#!/usr/bin/env bash
# make fixture (last part): Debian 12's ansible-core and the two Python
# modules it needs that the fixture lacks, as .deb files, for the builder
# test's ansible-local provisioner (which unpacks them in the build VM: the
# VM itself needs no network). Output: build/fixture/ansible-debs/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fixture/ansible-debs
pkgs=(ansible-core python3-packaging python3-resolvelib)
have=0
for p in "${pkgs[@]}"; do compgen -G "$out/${p}_*.deb" >/dev/null && have=$((have + 1)); done
if [[ $have == "${#pkgs[@]}" ]]; then
  echo "fixture: $out is up to date"
  exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clawimg-ansible-debs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}")
mkdir -p "$out"
mv "$tmp"/*.deb "$out"/
echo "fixture: $out: $(cd "$out" && ls | tr '\n' ' ')"
