#!/bin/sh
# The bundled OpenClaw plugins the image keeps: OPENCLAW_PLUGINS (ids,
# space-separated), or all. OpenClaw's gateway discovers and validates every
# bundled plugin again at each change of its configuration, loaded or not:
# measured under TCG on a 2-core host, a token change took 5.6 s with all 63
# and 2.8 s with the 14 it loads. A directory without a plugin manifest is
# shared code, and stays. $1: the extensions directory (for tests).
set -eu
ext=${1:-/home/openclaw/.npm-global/lib/node_modules/openclaw/dist/extensions}
keep=${OPENCLAW_PLUGINS:-all}
if [ "$keep" = all ]; then
  echo "bundled plugins: all kept"
  exit 0
fi
[ -d "$ext" ] || { echo "openclaw_plugins: no bundled plugins at $ext" >&2; exit 1; }
for id in $keep; do
  [ -f "$ext/$id/openclaw.plugin.json" ] || { echo "openclaw_plugins: $id is not a bundled plugin of this OpenClaw" >&2; exit 1; }
done
kept=0 removed=0
for dir in "$ext"/*/; do
  id=$(basename "$dir")
  [ -f "$dir/openclaw.plugin.json" ] || continue
  case " $keep " in
    *" $id "*) kept=$((kept + 1)) ;;
    *) rm -rf "$dir"; removed=$((removed + 1)) ;;
  esac
done
echo "bundled plugins: kept $kept, removed $removed"
