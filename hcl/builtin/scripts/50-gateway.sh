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
