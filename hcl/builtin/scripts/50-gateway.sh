#!/bin/sh
# The OpenClaw gateway as the openclaw user's systemd service: onboarded
# without prompts, bound to loopback, token auth. No secret is baked in: the
# configuration refers to ANTHROPIC_API_KEY and OPENCLAW_GATEWAY_TOKEN by
# name, and `clawimg launch` writes both, per instance, to
# ~openclaw/.openclaw/.env (0600), which the gateway reads when it starts.
set -eu
user=openclaw
home=$(getent passwd "$user" | cut -d: -f6)
uid=$(id -u "$user")
port=18789

# `openclaw` on the user's login PATH (su -, sudo -i, ssh).
grep -q '.npm-global/bin' "$home/.profile" 2>/dev/null || cat >>"$home/.profile" <<'PROFILE'

# OpenClaw's npm prefix (clawimg)
PATH="$HOME/.npm-global/bin:$PATH"
PROFILE
chown "$user:$user" "$home/.profile"

# A user manager that runs without a login session, so the service starts at
# boot.
loginctl enable-linger "$user"
i=0
until [ -S "/run/user/$uid/bus" ]; do
  i=$((i + 1))
  if [ $i -gt 120 ]; then echo "the systemd user manager of $user did not start" >&2; exit 1; fi
  sleep 0.5
done

# Commands as the user, with a clean environment: nothing of the build's
# (proxy CA file, provisioner variables) is captured into the service.
as_user() {
  runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash \
    PATH="$home/.npm-global/bin:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 \
    XDG_RUNTIME_DIR="/run/user/$uid" DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" "$@"
}

# Onboarding in "ref" mode stores references to the two variables, never
# their values; it only checks that they are set, so it is given stand-ins
# that are checked at the end not to have been written anywhere.
placeholder=stand-in-not-a-secret
as_user env ANTHROPIC_API_KEY=$placeholder OPENCLAW_GATEWAY_TOKEN=$placeholder \
  ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS} \
  openclaw onboard --non-interactive --accept-risk --mode local \
  --auth-choice apiKey --secret-input-mode ref \
  --gateway-port $port --gateway-bind loopback \
  --gateway-auth token --gateway-token-ref-env OPENCLAW_GATEWAY_TOKEN \
  --no-install-daemon --skip-channels --skip-skills --skip-search --skip-ui --skip-health

# The service. The install also insists that the token resolves; the unit
# it writes refers to the state directory, not to the value (checked at the
# end). It starts the gateway, which cannot serve before launch delivers
# its token: stopped at once, and from then on it waits for that file
# instead of failing (and running OpenClaw's triage) at every boot of the
# image. (The drop-in cannot be there before the install: OpenClaw then
# refuses to publish its unit.)
as_user env OPENCLAW_GATEWAY_TOKEN=$placeholder openclaw gateway install --runtime node --port $port
as_user systemctl --user stop openclaw-gateway.service
dropin="$home/.config/systemd/user/openclaw-gateway.service.d"
install -d -o "$user" -g "$user" "$dropin"
cat >"$dropin/10-clawimg.conf" <<'UNIT'
# clawimg: the API key and gateway token arrive at launch.
[Unit]
ConditionPathExists=%h/.openclaw/.env
UNIT
chown "$user:$user" "$dropin/10-clawimg.conf"

# Node's compile cache and a resolution cache for the gateway's worker
# threads. Under emulation (QEMU's TCG) OpenClaw's state-lease worker needs
# 4-6 s to load on an idle 2-core host, against OpenClaw's fixed 5 s
# start-up deadline, and the gateway does not start. Two preloads (plain
# Node, no change to OpenClaw's files) take most of that away:
# - OpenClaw starts its workers with an empty environment, so
#   NODE_COMPILE_CACHE never reaches them and each compiled its modules
#   from source at every start: the preload hands the main thread's cache
#   directory to workers whose environment leaves it out;
# - a worker resolves its whole import graph at every start (the
#   state-lease worker: ~1,500 specifiers, each a walk over package.json
#   files, stats and realpaths; about 2 of those seconds under TCG): the
#   answers are recorded here, in the build, and a resolve hook
#   (module.registerHooks) that each worker loads first gives them back.
#   A change of the installed OpenClaw (its package.json) turns it off.
# Both caches are primed here, so the image ships them.
cache=/var/cache/openclaw-node
preload=/usr/local/lib/clawimg/worker-compile-cache.mjs
resolve=/usr/local/lib/clawimg/resolve-cache.mjs
prefetch_sh=/usr/local/lib/clawimg/prefetch-gateway.sh
prefetch=$cache/prefetch.list
openclaw_dir="$home/.npm-global/lib/node_modules/openclaw"
pkg="$openclaw_dir/package.json"
install -d -o "$user" -g "$user" -m 0700 "$cache"
install -d -m 0755 "$(dirname "$preload")"
cat >"$preload" <<JS
// clawimg: OpenClaw starts its worker threads with env {}, so Node's compile
// cache (NODE_COMPILE_CACHE) does not reach them. Loaded with --import, this
// passes the main thread's cache directory to workers whose env leaves it
// out, and has each worker that is given its own execArgv load the
// resolution cache ($resolve) first.
import workerThreads from "node:worker_threads";
import nodeModule from "node:module";

const Base = workerThreads.Worker;
const resolveCache = "$resolve";
// The build's priming run records resolutions in its workers too.
const passed = ["CLAWIMG_RESOLVE_RECORD", "CLAWIMG_RESOLVE_STATS"];

function withCompileCache(options) {
  const dir = nodeModule.getCompileCacheDir?.() ?? process.env.NODE_COMPILE_CACHE;
  const env = options?.env;
  if (env === null || typeof env !== "object" || env === workerThreads.SHARE_ENV) return options;
  const add = {};
  if (dir && !("NODE_COMPILE_CACHE" in env || "NODE_DISABLE_COMPILE_CACHE" in env)) add.NODE_COMPILE_CACHE = dir;
  for (const k of passed) if (process.env[k] && !(k in env)) add[k] = process.env[k];
  return Object.keys(add).length ? { ...options, env: { ...env, ...add } } : options;
}

// Only an explicit execArgv is extended: without one a worker inherits the
// main thread's options as they are.
function withResolveCache(options) {
  const argv = options?.execArgv;
  if (options?.eval || !Array.isArray(argv) || argv.includes("--import=" + resolveCache)) return options;
  return { ...options, execArgv: ["--import=" + resolveCache, ...argv] };
}

workerThreads.Worker = class Worker extends Base {
  constructor(filename, options) {
    super(filename, withResolveCache(withCompileCache(options)));
  }
};
nodeModule.syncBuiltinESMExports();
JS
cat >"$resolve" <<JS
// clawimg: Node's module resolution for OpenClaw's worker threads, answered
// from what the image's build recorded ($cache/resolve.json), so a worker
// does not walk package.json files for its ~1,500 imports at every start.
// Off when the installed OpenClaw changed (its package.json), when Node has
// no module.registerHooks, or without the file; a specifier not recorded is
// resolved by Node as always.
import nodeModule from "node:module";
import fs from "node:fs";

const file = "$cache/resolve.json";
const record = process.env.CLAWIMG_RESOLVE_RECORD;
const statsTo = process.env.CLAWIMG_RESOLVE_STATS;

// stamp identifies the installed OpenClaw the answers are valid for.
export function stamp() {
  const st = fs.statSync("$pkg", { throwIfNoEntry: false });
  return st ? st.size + ":" + st.mtimeMs + ":" + st.ino : "";
}

const keyOf = (specifier, context) =>
  (context.parentURL ?? "") + "\0" + specifier + "\0" + (context.conditions ?? []).join(",");

let table = null;
if (!record) {
  try {
    const saved = JSON.parse(fs.readFileSync(file, "utf8"));
    if (saved.stamp === stamp()) table = saved.entries;
  } catch {}
}
let hits = 0, misses = 0;
if (typeof nodeModule.registerHooks === "function" && (table || record)) {
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      if (table) {
        const hit = table[keyOf(specifier, context)];
        if (hit) {
          hits++;
          return { url: hit[0], format: hit[1] ?? undefined, shortCircuit: true };
        }
        misses++;
        return nextResolve(specifier, context);
      }
      const r = nextResolve(specifier, context);
      fs.appendFileSync(record, JSON.stringify([keyOf(specifier, context), r.url, r.format ?? null]) + "\n");
      return r;
    },
  });
}
if (statsTo) process.on("exit", () => fs.appendFileSync(statsTo, hits + " " + misses + "\n"));
JS
chmod 0644 "$preload" "$resolve"
# The first start after a boot also reads the worker's ~1,200 files from a
# cold disk, inside the deadline (a start missed it at 5,041 ms that way,
# on an idle host, where a restart loads it in about 3 s): they are read
# into the page cache before the gateway starts, from the list the build
# wrote (the files the worker resolved, and the compile cache).
cat >"$prefetch_sh" <<SH
#!/bin/sh
# clawimg: reads the files the OpenClaw gateway's state-lease worker loads
# into the page cache (see $dropin/20-compile-cache.conf).
[ -r "$prefetch" ] && xargs -r -d '\n' cat <"$prefetch" >/dev/null 2>&1
exit 0
SH
chmod 0755 "$prefetch_sh"
cat >"$dropin/20-compile-cache.conf" <<UNIT
# clawimg: Node's compile cache, for the gateway's worker threads too, and
# their resolution cache; their files read before the gateway starts.
[Service]
Environment=NODE_COMPILE_CACHE=$cache
Environment=NODE_OPTIONS=--import=$preload
ExecStartPre=-$prefetch_sh
UNIT
chown "$user:$user" "$dropin/20-compile-cache.conf"
# Prime both: load the state-lease worker once the way the gateway does (an
# empty env), through the preload. It exits at once for want of its
# workerData; what counts is that its modules were compiled into the cache
# and their resolutions recorded (every import is resolved before the
# worker's code runs).
worker="$openclaw_dir/dist/state/openclaw-state-lease-heartbeat.worker.js"
load_worker() {
  as_user env NODE_COMPILE_CACHE=$cache NODE_OPTIONS=--import=$preload "$@" node --input-type=module -e '
import { Worker } from "node:worker_threads";
const w = new Worker(process.argv[1], { env: {}, execArgv: [], stdout: true, stderr: true });
w.stdout.resume(); w.stderr.resume(); w.on("error", () => {});
' "$worker"
}
if [ -f "$worker" ]; then
  record="$cache/resolve.record"
  rm -f "$record"
  load_worker CLAWIMG_RESOLVE_RECORD="$record"
  n=$(find "$cache" -type f -name '[0-9a-f]*' | wc -l)
  echo "compile cache primed: $n modules"
  [ "$n" -gt 20 ] || { echo "the compile cache of the gateway's workers stayed empty ($n files in $cache)" >&2; exit 1; }
  if as_user node -e 'process.exit(typeof require("node:module").registerHooks === "function" ? 0 : 1)'; then
    # One answer per question (the last), stamped with the installed
    # OpenClaw; written whole, then renamed.
    as_user node --input-type=module -e '
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { stamp } from "'"$resolve"'";
const [record, out, list] = process.argv.slice(1);
const entries = {};
for (const line of fs.readFileSync(record, "utf8").split("\n")) {
  if (!line) continue;
  const [key, url, format] = JSON.parse(line);
  entries[key] = format ? [url, format] : [url];
}
fs.writeFileSync(out + ".tmp", JSON.stringify({ stamp: stamp(), entries }));
fs.renameSync(out + ".tmp", out);
console.log("resolution cache primed: " + Object.keys(entries).length + " resolutions");
const files = new Set();
for (const [url] of Object.values(entries)) if (url.startsWith("file:")) files.add(fileURLToPath(url));
fs.writeFileSync(list + ".tmp", [...files].join("\n") + "\n");
fs.renameSync(list + ".tmp", list);
' "$record" "$cache/resolve.json" "$prefetch.files"
    rm -f "$record"
    # Load it once more from the cache: (almost) every import must be
    # answered from it, or it is not doing its job.
    stats="$cache/resolve.stats"
    rm -f "$stats"
    load_worker CLAWIMG_RESOLVE_STATS="$stats"
    read -r hits misses <"$stats" || { echo "the resolution cache was not loaded in the worker" >&2; exit 1; }
    rm -f "$stats"
    echo "resolution cache: $hits of $((hits + misses)) imports of the state-lease worker answered from it"
    [ "$hits" -gt 100 ] && [ "$misses" -le $((hits / 20)) ] || { echo "the resolution cache answered $hits of $((hits + misses)) imports" >&2; exit 1; }
    # What the prefetch reads: the worker's files, both caches, the preloads.
    { cat "$prefetch.files"; find "$cache" -mindepth 2 -type f; echo "$cache/resolve.json"; echo "$preload"; echo "$resolve"; } >"$prefetch.tmp"
    rm -f "$prefetch.files"
    chown "$user:$user" "$prefetch.tmp"; mv -f "$prefetch.tmp" "$prefetch"
    echo "prefetch: $(wc -l <"$prefetch") files, $(xargs -r -d '\n' stat -L -c %s <"$prefetch" | awk '{s += $1} END {print s + 0}') bytes"
  else
    rm -f "$record"
    echo "note: this Node has no module.registerHooks (22.15 or later): no resolution cache"
  fi
else
  echo "note: $worker not found (another OpenClaw layout); the compile cache fills at the gateway's first start"
fi
as_user systemctl --user daemon-reload
as_user systemctl --user reset-failed openclaw-gateway.service 2>/dev/null || true
as_user systemctl --user is-enabled openclaw-gateway.service

# The model provider's address comes from the environment: clawimg's qemu
# driver points it at the instance's key broker on the host (the key never
# enters the VM), other drivers at Anthropic itself. OpenClaw's built-in
# Anthropic models carry api.anthropic.com and ignore ANTHROPIC_BASE_URL in
# the environment; a provider entry with a base URL overrides them.
python3 - "$home/.openclaw/openclaw.json" <<'PY'
import json, os, sys
path = sys.argv[1]
with open(path) as f:
    cfg = json.load(f)
cfg.setdefault("models", {}).setdefault("providers", {})["anthropic"] = {
    "baseUrl": "${ANTHROPIC_BASE_URL}", "api": "anthropic-messages", "models": []}
st = os.stat(path)
with open(path + ".clawimg", "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
os.chmod(path + ".clawimg", st.st_mode & 0o777)
os.chown(path + ".clawimg", st.st_uid, st.st_gid)
os.replace(path + ".clawimg", path)
PY

# Per-install state the instances must not share: logs of the build's runs
# and the key that fingerprints configuration changes (made again on first
# use).
rm -rf "$home/.openclaw/logs" "$home/.openclaw/config-journal-fingerprint.key"

if grep -rl "$placeholder" "$home/.openclaw" "$home/.config"; then
  echo "a build stand-in secret was written to the files above" >&2
  exit 1
fi
