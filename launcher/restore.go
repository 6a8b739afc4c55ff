package launcher

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clawimg/clawimg/images"
)

// Start kinds of an instance (Record.Start).
const (
	StartWarm = "warm"
	StartCold = "cold"
)

// warmStart is what a restore needs: the state's files, the machine they
// must run on, and the instance's own identity to put in place.
type warmStart struct {
	Machine WarmMachine
	Files   *images.UnpackedWarm
	ID      identity
	// Restored, Renewed and Token are filled in by restore: how long the
	// driver took to load the saved VM, the identity to be renewed, and
	// (part of it, from its start) the running gateway to take the new
	// token.
	Restored, Renewed, Token time.Duration
	// Known is what the renewal found out in the guest that waitReady
	// need not ask again over SSH.
	Known guestReadiness
}

// guestReadiness is what the re-identity learnt of the stages waitReady
// waits for: each costs an SSH session (seconds under emulation), while
// the guest agent's session was there already.
type guestReadiness struct {
	SSH       bool          // a command ran over SSH with the instance's key
	CloudInit bool          // cloud-init has finished
	Gateway   *gatewayState // the gateway's probe; nil: not probed
}

// identity is what makes an instance itself. A restored guest starts with
// the warm VM's throwaway identity; reidentify replaces all of it.
type identity struct {
	Hostname     string
	User         string
	Keys         []string // authorized keys of User
	GatewayToken string
	// Env is the gateway's .env (the token, the placeholder key or, on a
	// driver without a broker, the key, and the endpoints); Endpoints is
	// /etc/clawimg/endpoints; Guest names them (guestNet.id).
	Env, Endpoints, Guest string
	// RestartGateway restarts the gateway after the renewal instead of
	// waiting for the running one to take the new token.
	RestartGateway bool
	// ClockLast sets the guest's clock after the running gateway has
	// taken the token, not before the renewal (see reidentify).
	ClockLast bool
}

// findWarm returns the warm state a launch can restore, or why none fits
// (one line, for the user).
func (m *Manager) findWarm(ctx context.Context, wr Warmer, rec *Record) (*images.WarmState, WarmMachine, string) {
	states, err := m.store.WarmStates(rec.Digest)
	if len(states) == 0 {
		if err != nil {
			return nil, WarmMachine{}, "its warm state cannot be read: " + err.Error()
		}
		return nil, WarmMachine{}, "no warm state of " + rec.Image + " (make one with: clawimg warm " + rec.Image + ")"
	}
	want, werr := wr.WarmMachine(ctx, rec.CPUs, rec.MemoryMiB, rec.DiskBytes)
	if werr != nil {
		return nil, WarmMachine{}, werr.Error()
	}
	want.Firmware = rec.Firmware
	var why string
	for i := range states {
		var got WarmMachine
		if err := json.Unmarshal(states[i].Config.Machine, &got); err != nil {
			continue
		}
		if got == want {
			return &states[i], got, ""
		}
		if why == "" {
			why = "the warm state of " + rec.Image + " does not fit: " + machineDiff(got, want)
		}
	}
	return nil, WarmMachine{}, why
}

// machineDiff names what differs between a state's machine and a launch's.
func machineDiff(state, launch WarmMachine) string {
	var d []string
	add := func(what, s, l string) {
		if s != l {
			d = append(d, fmt.Sprintf("%s %s (this launch: %s)", what, s, l))
		}
	}
	add("saved with QEMU", state.QEMUVersion, launch.QEMUVersion)
	add("memory", strconv.Itoa(state.MemoryMiB)+" MiB", strconv.Itoa(launch.MemoryMiB)+" MiB")
	add("cpus", strconv.Itoa(state.CPUs), strconv.Itoa(launch.CPUs))
	add("accelerator", state.Accel, launch.Accel)
	add("disk", images.HumanBytes(state.DiskBytes), images.HumanBytes(launch.DiskBytes))
	add("machine", state.MachineType, launch.MachineType)
	add("CPU model", state.CPUModel, launch.CPUModel)
	add("binary", state.Binary, launch.Binary)
	add("devices", state.Devices, launch.Devices)
	add("firmware", firmwareName(state.Firmware), firmwareName(launch.Firmware))
	if len(d) == 0 {
		return "the machine differs"
	}
	return strings.Join(d, ", ")
}

// restore starts an instance from a warm state through the driver, then
// gives it its own identity. A guest whose identity cannot be renewed is
// deleted: it never runs with the throwaway identity.
func (m *Manager) restore(ctx context.Context, d Driver, wr Warmer, s *Spec, w *warmStart) error {
	start := time.Now()
	if err := wr.Restore(ctx, s, w.Machine, w.Files); err != nil {
		return err
	}
	w.Restored = time.Since(start)
	// Once the guest has its new host and authorized keys, the host's
	// first SSH session (seconds under emulation) runs while the gateway
	// takes its token, instead of after: waitReady then need not wait for
	// SSH. One that fails here is waited for there, as for any launch.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var sshUp chan bool
	out, err := reidentify(ctx, wr, &s.Record, w.ID, func() {
		sshUp = make(chan bool, 1)
		go func() {
			ssh, cancel := context.WithTimeout(sctx, time.Minute)
			defer cancel()
			rw := readiness{ctx: ssh, d: d, r: &s.Record, timeout: time.Minute}
			sshUp <- rw.ssh() == nil
		}()
	})
	if err != nil {
		stop() // no SSH check to wait a minute for
	}
	sshOK := sshUp != nil && <-sshUp
	if err != nil {
		_ = d.Delete(ctx, &s.Record)
		return err
	}
	w.Renewed = time.Since(start) - w.Restored
	w.Token, w.Known = readRenewal(out)
	w.Known.SSH = sshOK
	return nil
}

// readRenewal reads what reidentifyScript printed: how long the gateway
// took to apply the token, and what it saw ready.
func readRenewal(out string) (token time.Duration, known guestReadiness) {
	kv := keyValues(out)
	if ms, err := strconv.Atoi(kv.get("token_ms")); err == nil {
		token = time.Duration(ms) * time.Millisecond
	}
	known.CloudInit = kv.get("cloudinit") == "done"
	if kv.get("installed") != "" {
		g := parseGatewayState(out)
		known.Gateway = &g
	}
	return token, known
}

// reidentifyScript gives a restored guest its own identity; the running
// gateway is still taking its new token when it returns (then
// renewalWaitScript waits for that). It runs as root through the guest
// agent; its values come on stdin, one per line (hostname, user,
// machine-id, entropy in hex, gateway token, the .env and the endpoints in
// base64, "yes" to restart the gateway, the host's clock in nanoseconds
// and "now" to set the guest's to it now, then the authorized keys), so
// that no secret is ever on a command line. It prints the guest's clock
// when it read the host's (g0=), when it started (t0=, date +%s%N), from
// which the token's time is counted, and the gateway's configuration file
// (conf=).
var reidentifyScript = `set -eu
read -r name; read -r user; read -r mid; read -r entropy; read -r token; read -r envb64; read -r endpointsb64; read -r restart
read -r hostns; read -r clock
g0=$(date +%s%N)
` + setClock + `
if [ "$clock" = now ]; then set_clock $(( hostns + $(date +%s%N) - g0 )); fi
keys=$(cat)
t0=$(date +%s%N)
# OpenClaw: its gateway applies a new token from its configuration without
# restarting ("config hot reload applied (gateway.auth.token)"), which
# takes it seconds; the rest of this script runs meanwhile, so the token
# goes first. It also goes to .env with the rest of the gateway's
# environment, which is the warm VM's (the key stays on the host: .env
# holds the broker's placeholder) unless the gateway is restarted.
conf=
if id openclaw >/dev/null 2>&1; then
  oh=$(getent passwd openclaw | cut -d: -f6)
  if [ -f "$oh/.openclaw/openclaw.json" ]; then
    conf="$oh/.openclaw/openclaw.json"
` + tokenIntoConfig + `
  fi
  ( umask 077
    printf '%s' "$envb64" | base64 -d > "$oh/.openclaw/.env.new" )
  chown openclaw:openclaw "$oh/.openclaw/.env.new"
  mv -f "$oh/.openclaw/.env.new" "$oh/.openclaw/.env"
fi
# Where the guest may go first (the broker, the proxy): the same as the
# warm VM's unless this instance's egress differs, and then the gateway is
# restarted below to read its environment again.
if [ -n "$endpointsb64" ]; then
  install -d -m 0755 ` + filepath.Dir(endpointsPath) + `
  printf '%s' "$endpointsb64" | base64 -d > ` + endpointsPath + `.new
  chmod 0644 ` + endpointsPath + `.new; mv -f ` + endpointsPath + `.new ` + endpointsPath + `
` + applyEndpoints + `
fi
# Fresh entropy from the host, before any key is made here.
` + reseedRNG + `
# machine-id
printf '%s\n' "$mid" > /etc/machine-id
if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then cp /etc/machine-id /var/lib/dbus/machine-id; fi
# journald files its journal under the machine-id: a new one for the new
# id. Not waited for (a second under emulation): the host's first SSH
# session starts when this script ends.
systemctl --no-block restart systemd-journald.service 2>/dev/null || true
# hostname
printf '%s\n' "$name" > /etc/hostname
hostname "$name"
if grep -q '^127\.0\.1\.1[[:space:]]' /etc/hosts; then sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1 $name/" /etc/hosts
else printf '127.0.1.1 %s\n' "$name" >> /etc/hosts; fi
# SSH host keys
rm -f /etc/ssh/ssh_host_*key /etc/ssh/ssh_host_*key.pub
ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
ssh-keygen -q -t ecdsa -N '' -f /etc/ssh/ssh_host_ecdsa_key
systemctl try-restart ssh.service 2>/dev/null || systemctl try-restart sshd.service 2>/dev/null || true
# The user's keys replace the warm VM's.
h=$(getent passwd "$user" | cut -d: -f6)
install -d -m 0700 -o "$user" -g "$(id -gn "$user")" "$h/.ssh"
printf '%s\n' "$keys" > "$h/.ssh/authorized_keys.new"
chown "$user:$(id -gn "$user")" "$h/.ssh/authorized_keys.new"; chmod 0600 "$h/.ssh/authorized_keys.new"
mv -f "$h/.ssh/authorized_keys.new" "$h/.ssh/authorized_keys"
rm -rf /run/clawimg
# From a state saved before its gateway was ready (still starting then),
# or with another environment: restarted, so that it starts with this
# instance's. Blocking: once it returns, the old gateway (which could
# answer ready) is gone.
if [ -n "$conf" ] && [ -n "$restart" ]; then
  u=$(id -u openclaw)
  runuser -u openclaw -- env XDG_RUNTIME_DIR=/run/user/$u sh -c 'systemctl --user reset-failed ` + gatewayUnit + ` 2>/dev/null; systemctl --user restart ` + gatewayUnit + `' || true
fi
echo "g0=$g0"
echo "t0=$t0"
echo "conf=$conf"
`

// setClock defines set_clock NS, which sets the guest's clock to NS
// nanoseconds since the epoch. QEMU's guest-set-time would also write the
// hardware clock with hwclock, which waits for the clock's next second:
// up to a second more of every warm launch. A restored guest does not
// need it: QEMU sets its RTC from the host's clock whenever it boots.
const setClock = `set_clock() {
  date -u -s "@$(( $1 / 1000000000 )).$(printf '%09d' $(( $1 % 1000000000 )))" >/dev/null || { echo "cannot set the clock" >&2; exit 1; }
}`

// renewalWaitScript is the second part of a renewal, run once the guest
// has its keys: it waits for the running gateway to take the new token and
// reports what waitReady would ask next, then sets the clock when it is
// to be set last. Its input on stdin: the token, what the first part
// printed (its start, t0, date +%s%N, and the gateway's configuration
// file, empty without one), "yes" when the gateway was restarted instead,
// and the host's clock minus the guest's in nanoseconds (empty: the clock
// was set already).
var renewalWaitScript = `set -eu
read -r token; read -r t0; read -r conf; read -r restart; read -r offset
url=http://127.0.0.1:` + strconv.Itoa(GatewayPort) + `
# The gateway's probe, which waitReady would ask next over SSH, runs
# meanwhile: after the token, a gateway finishing its reload takes a
# second to answer it. (Its readiness does not depend on the token.)
probe=$(mktemp)
( set +e
` + gatewayProbe + `) > "$probe" 2>/dev/null &
# Wait until the running gateway accepts the new token (the header goes
# through stdin, never on a command line). The body is not JSON: the
# gateway checks the token first (401 until it takes the new one), then
# rejects the body (400) without resolving its tools, which a restored
# gateway would take most of a second to do. Anything else (no answer,
# 000, right after the restore; 429, 5xx) is waited for too.
if [ -n "$conf" ] && [ -z "$restart" ]; then
  deadline=$(( $(date +%s) + 150 )); took=
  while [ "$(date +%s)" -lt "$deadline" ]; do
    code=$(printf 'Authorization: Bearer %s\n' "$token" | curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H @- \
      -H 'Content-Type: application/json' -d 'clawimg token check' "$url/tools/invoke" || true)
    case "$code" in 400|404|2??) took=yes; break ;; *) sleep 0.15 ;; esac
  done
  [ -n "$took" ] || { echo "the gateway did not take the new token in 150 s" >&2; exit 1; }
  echo "token_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
fi
# What else the host would ask next, one SSH session each, asked here
# where it costs nothing: whether cloud-init has finished (it had, in the
# warm VM), and the probe's answer.
set +e
if [ -f /var/lib/cloud/instance/boot-finished ] || ! command -v cloud-init >/dev/null; then echo cloudinit=done; fi
wait
cat "$probe"; rm -f "$probe"
` + setClock + `
if [ -n "$offset" ]; then set_clock $(( $(date +%s%N) + offset )); fi
`

// reidentify renews a restored guest's identity through the guest agent:
// clock, RNG, machine-id, hostname, SSH host keys, authorized keys, and the
// OpenClaw gateway's token.
// keysIn, when not nil, is called once the guest has its new SSH host keys
// and authorized keys, while its gateway is still taking the token.
func reidentify(ctx context.Context, wr Warmer, r *Record, id identity, keysIn func()) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	a, err := wr.Agent(ctx, r)
	if err != nil {
		return "", fmt.Errorf("renew the identity: %w", err)
	}
	defer a.Close()
	clock := "now"
	if id.ClockLast {
		clock = "later"
	}
	mid := make([]byte, 16)
	entropy := make([]byte, 64)
	rand.Read(mid)
	rand.Read(entropy)
	restart := ""
	if id.RestartGateway {
		restart = "yes"
	}
	hostNs := time.Now().UnixNano() // as the script reads it, give or take the agent's latency
	input := strings.Join([]string{id.Hostname, id.User, hex.EncodeToString(mid), hex.EncodeToString(entropy),
		id.GatewayToken, base64.StdEncoding.EncodeToString([]byte(id.Env)), base64.StdEncoding.EncodeToString([]byte(id.Endpoints)),
		restart, strconv.FormatInt(hostNs, 10), clock, strings.Join(id.Keys, "\n")}, "\n") + "\n"
	first, err := runScript(ctx, a, "renew the identity", reidentifyScript, input)
	if err != nil {
		return "", err
	}
	if keysIn != nil {
		keysIn()
	}
	kv := keyValues(first)
	// With a running gateway, the clock last: until the token is taken the
	// guest's wall clock goes on from the moment the state was saved, as
	// if there had been no gap. A jump of hours sets off work that would
	// compete with the token's hot reload for the guest's CPUs: OpenClaw's
	// host-thaw recovery (a wall-clock gap over 75 s restarts its
	// channels and refreshes its health and presence) and systemd's
	// timers that fell due meanwhile. Without one, first: that work then
	// overlaps the renewal, not the readiness checks after it. Last, it is
	// the guest's clock plus how far it lagged the host's when the first
	// part read the host's.
	offset := ""
	if id.ClockLast {
		g0, err := strconv.ParseInt(kv.get("g0"), 10, 64)
		if err != nil {
			return "", fmt.Errorf("renew the identity: the guest's clock: %q", kv.get("g0"))
		}
		offset = strconv.FormatInt(hostNs-g0, 10)
	}
	return runScript(ctx, a, "renew the identity", renewalWaitScript,
		strings.Join([]string{id.GatewayToken, kv.get("t0"), kv.get("conf"), restart, offset}, "\n")+"\n")
}

func firmwareName(f string) string {
	if f == "" {
		return "BIOS"
	}
	return f
}
