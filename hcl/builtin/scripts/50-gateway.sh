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

# Node's compile cache for the gateway and its worker threads. OpenClaw
# starts its workers with an empty environment, so NODE_COMPILE_CACHE never
# reaches them and each compiles its modules from source at every start;
# under emulation (QEMU's TCG) the state-lease worker then needs 4-5 s to
# load, against OpenClaw's fixed 5 s start-up deadline, and the gateway
# does not start. A preload (plain Node, no change to OpenClaw's files)
# hands the main thread's cache directory to workers whose environment
# leaves it out; the cache is primed here, so the image ships it.
cache=/var/cache/openclaw-node
preload=/usr/local/lib/clawimg/worker-compile-cache.mjs
install -d -o "$user" -g "$user" -m 0700 "$cache"
install -d -m 0755 "$(dirname "$preload")"
cat >"$preload" <<'JS'
// clawimg: OpenClaw starts its worker threads with env {}, so Node's compile
// cache (NODE_COMPILE_CACHE) does not reach them. Loaded with --import, this
// passes the main thread's cache directory to workers whose env leaves it out.
import workerThreads from "node:worker_threads";
import nodeModule from "node:module";

const Base = workerThreads.Worker;

function withCompileCache(options) {
  const dir = nodeModule.getCompileCacheDir?.() ?? process.env.NODE_COMPILE_CACHE;
  const env = options?.env;
  if (!dir || env === null || typeof env !== "object" || env === workerThreads.SHARE_ENV) return options;
  if ("NODE_COMPILE_CACHE" in env || "NODE_DISABLE_COMPILE_CACHE" in env) return options;
  return { ...options, env: { ...env, NODE_COMPILE_CACHE: dir } };
}

workerThreads.Worker = class Worker extends Base {
  constructor(filename, options) {
    super(filename, withCompileCache(options));
  }
};
nodeModule.syncBuiltinESMExports();
JS
chmod 0644 "$preload"
cat >"$dropin/20-compile-cache.conf" <<UNIT
# clawimg: Node's compile cache, for the gateway's worker threads too.
[Service]
Environment=NODE_COMPILE_CACHE=$cache
Environment=NODE_OPTIONS=--import=$preload
UNIT
chown "$user:$user" "$dropin/20-compile-cache.conf"
# Prime it: load the state-lease worker once the way the gateway does (an
# empty env), through the preload. It exits at once for want of its
# workerData; what counts is that its modules were compiled into the cache.
worker="$home/.npm-global/lib/node_modules/openclaw/dist/state/openclaw-state-lease-heartbeat.worker.js"
if [ -f "$worker" ]; then
  as_user env NODE_COMPILE_CACHE=$cache NODE_OPTIONS=--import=$preload node --input-type=module -e '
import { Worker } from "node:worker_threads";
const w = new Worker(process.argv[1], { env: {}, execArgv: [], stdout: true, stderr: true });
w.stdout.resume(); w.stderr.resume(); w.on("error", () => {});
' "$worker"
  n=$(find "$cache" -type f | wc -l)
  echo "compile cache primed: $n modules"
  [ "$n" -gt 20 ] || { echo "the compile cache of the gateway's workers stayed empty ($n files in $cache)" >&2; exit 1; }
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
