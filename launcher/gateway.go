package launcher

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// GatewayPort is where the OpenClaw gateway listens, on loopback only.
const GatewayPort = 18789

// gatewayUnit is the OpenClaw gateway's systemd user service, installed
// for the openclaw user by the built-in recipe.
const gatewayUnit = "openclaw-gateway.service"

// gatewayProbe prints, as key=value lines, what the guest knows about the
// gateway: whether the service is installed, whether its /readyz answers
// ready on loopback (cheap, unlike `openclaw gateway status`, which takes
// over a minute under emulation), and, when it is not ready, the service's
// systemd state and the last line of its journal that says why it stopped.
// A ready one's are not asked: systemctl and journalctl take up to a second
// each in a busy guest under emulation, and a warm launch's readiness waits
// for this probe. Run as root.
var gatewayProbe = fmt.Sprintf(`u=$(id -u openclaw 2>/dev/null) || { echo installed=no; exit 0; }
h=$(getent passwd openclaw | cut -d: -f6)
if [ -f "$h/.config/systemd/user/%[1]s" ]; then echo installed=yes; else echo installed=no; exit 0; fi
url=http://127.0.0.1:%[2]d/readyz
if command -v curl >/dev/null; then body=$(curl -fsS --max-time 10 "$url" 2>/dev/null)
else body=$(python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$url" 2>/dev/null); fi
case "$body" in *'"ready":true'*) ready=yes ;; *) ready=no ;; esac
echo ready=$ready
[ -f "$h/.openclaw/.env" ] && echo envfile=yes || echo envfile=no
if [ "$ready" = no ]; then
  if [ -S "/run/user/$u/bus" ]; then
    runuser -u openclaw -- env XDG_RUNTIME_DIR=/run/user/$u systemctl --user show %[1]s \
      -p ActiveState -p SubState -p Result -p ExecMainStatus -p NRestarts 2>/dev/null
  else echo ActiveState=no-user-manager; fi
  journalctl -q --no-pager -o cat _SYSTEMD_USER_UNIT=%[1]s _UID=$u -n 300 2>/dev/null | { %[3]s; }
fi
`, gatewayUnit, GatewayPort, gatewayReason)

// gatewayReason prints, from the gateway's journal on stdin, why it
// stopped: OpenClaw's start-up deadline when it was missed (a refused
// start lists every migration step it skipped after, last, and the
// deadline only inside one long line), else the last line that says why.
const gatewayReason = `j=$(cat)
lease=$(printf '%s\n' "$j" | grep -o 'state lease heartbeat did not become ready ([^)]*)' | tail -n 1)
if [ -n "$lease" ]; then echo "reason=$lease"
else echo "reason=$(printf '%s\n' "$j" | grep -iE 'fail|error|refus|unavailable|timed out|timeout|deadline|exit' | grep -v 'slow SQLite' | tail -n 1)"; fi`

// gatewayState is what gatewayProbe printed.
type gatewayState struct {
	Installed, Ready, EnvFile bool
	Active, Sub, Result       string
	ExitStatus, Restarts      string
	Reason                    string
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func parseGatewayState(out string) gatewayState {
	kv := keyValues(out)
	return gatewayState{
		Installed: kv.get("installed") == "yes", Ready: kv.get("ready") == "yes", EnvFile: kv.get("envfile") == "yes",
		Active: kv.get("ActiveState"), Sub: kv.get("SubState"), Result: kv.get("Result"),
		ExitStatus: kv.get("ExecMainStatus"), Restarts: kv.get("NRestarts"),
		Reason: oneLine(ansi.ReplaceAllString(kv.get("reason"), "")),
	}
}

// kvLines is what the probes print: key=value lines, a key possibly
// repeated.
type kvLines map[string][]string

func keyValues(out string) kvLines {
	kv := kvLines{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
			kv[k] = append(kv[k], v)
		}
	}
	return kv
}

// get is a key's first value.
func (kv kvLines) get(k string) string {
	if v := kv[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// stopped says the gateway will not become healthy by waiting: the service
// failed for good (systemd gave up restarting it, or it exited with a
// status that forbids restarts), or it never started because the file
// launch writes is missing.
func (g gatewayState) stopped() bool {
	if g.Ready {
		return false
	}
	return g.Active == "failed" || g.Active == "no-user-manager" || (g.Active == "inactive" && (!g.EnvFile || g.Result != "success" || g.ExitStatus != "0"))
}

// restarts is how often systemd has restarted the gateway since its last
// start by hand (0 when unknown).
func (g gatewayState) restarts() int {
	n, _ := strconv.Atoi(g.Restarts)
	return n
}

// failedStarts is how many starts a gateway that is not ready has had
// fail since its last start by hand: each of systemd's restarts followed a
// failed start, and so did the unit's stop (or a time-out with no restart),
// while a restarted one that is still starting has not failed yet.
func (g gatewayState) failedStarts() int {
	n := g.restarts()
	if g.stopped() || n == 0 {
		n++
	}
	return n
}

// String is the one-line account of the gateway's health.
func (g gatewayState) String() string {
	switch {
	case !g.Installed:
		return "no OpenClaw gateway service in this image"
	case g.Ready:
		return fmt.Sprintf("ready on 127.0.0.1:%d (/readyz)", GatewayPort)
	case !g.EnvFile:
		return "not started: ~openclaw/.openclaw/.env (token and API key, written at launch) is missing"
	case g.Active == "no-user-manager":
		return "not running: the openclaw user's systemd manager is not running (linger off?)"
	}
	s := fmt.Sprintf("not ready: service %s/%s", g.Active, g.Sub)
	if g.Result != "" && g.Result != "success" {
		s += ", " + g.Result
	}
	if g.ExitStatus != "" && g.ExitStatus != "0" {
		s += ", exit status " + g.ExitStatus
		if g.ExitStatus == "78" {
			s += " (start-up refused, restarts prevented)"
		}
	}
	if g.Restarts != "" && g.Restarts != "0" {
		s += ", " + g.Restarts + " restart(s)"
	}
	if g.Reason != "" {
		s += ": " + g.Reason
	}
	return s
}

// probeGateway runs gatewayProbe in the instance.
func probeGateway(ctx context.Context, d Driver, r *Record) (gatewayState, error) {
	var out bytes.Buffer
	code, err := d.Exec(ctx, r, []string{"sudo", "-n", "sh", "-c", gatewayProbe}, nil, &out, &out)
	if err != nil {
		return gatewayState{}, err
	}
	return gatewayProbed(code, out.String())
}

// gatewayProbed reads gatewayProbe's exit status and output.
func gatewayProbed(code int, out string) (gatewayState, error) {
	if code != 0 {
		return gatewayState{}, fmt.Errorf("gateway probe: exit status %d: %s", code, lastLine(out))
	}
	return parseGatewayState(out), nil
}

// newGatewayToken is a fresh token for one instance's gateway: clients
// (the Control UI through an SSH tunnel, the CLI) present it to connect.
func newGatewayToken() string { return rand.Text() }

// openclawUserProbe describes the openclaw user and who runs the gateway,
// as key=value lines. Run as root.
var openclawUserProbe = fmt.Sprintf(`id openclaw >/dev/null 2>&1 || { echo user=none; exit 0; }
echo "uid=$(id -u openclaw)"
echo "groups=$(id -nG openclaw)"
echo "password=$(passwd -S openclaw 2>/dev/null | awk '{print $2}')"
if sudo -l -n -U openclaw 2>/dev/null | grep -q 'may run'; then echo sudo=yes; else echo sudo=no; fi
h=$(getent passwd openclaw | cut -d: -f6)
if [ -f "$h/.config/systemd/user/%[1]s" ]; then echo userunit=yes; else echo userunit=no; fi
for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
  [ -f "$d/%[1]s" ] && echo "systemunit=$d/%[1]s"
done
ps -eo user:32=,args= | awk '{n = split($2, p, "/"); exe = p[n]} (exe == "node" || exe ~ /^openclaw/) && /openclaw/ {print "proc=" $1}' | sort -u
`, gatewayUnit)

// openclawNonRoot reads openclawUserProbe: the gateway must be the
// openclaw user's own service (never a system one), no gateway process
// may run as root, and the user must have neither sudo nor a password.
func openclawNonRoot(out string, gw gatewayState) (bool, string) {
	kv := keyValues(out)
	get := kv.get
	if get("user") == "none" || get("uid") == "" {
		return false, "no openclaw user"
	}
	var bad []string
	for _, p := range kv["proc"] {
		if p != "openclaw" {
			bad = append(bad, "an OpenClaw process runs as "+p)
		}
	}
	for _, u := range kv["systemunit"] {
		bad = append(bad, "system service "+u)
	}
	if get("userunit") != "yes" {
		bad = append(bad, "no gateway user service")
	}
	if get("sudo") == "yes" {
		bad = append(bad, "openclaw may run sudo")
	}
	for _, g := range strings.Fields(get("groups")) {
		switch g {
		case "root", "sudo", "admin", "wheel", "adm", "docker", "lxd", "libvirt":
			bad = append(bad, "openclaw is in group "+g)
		}
	}
	if get("password") == "P" {
		bad = append(bad, "openclaw has a usable password")
	}
	if len(bad) > 0 {
		return false, strings.Join(bad, "; ")
	}
	running := "not running now"
	if len(kv["proc"]) > 0 {
		running = "running as openclaw"
	}
	if gw.Ready {
		running = "serving as openclaw"
	}
	return true, fmt.Sprintf("gateway is the openclaw user's service (uid %s), %s; openclaw: no sudo, password locked", get("uid"), running)
}

// gatewayConfigProbe prints the gateway's configured bind and auth mode.
const gatewayConfigProbe = `h=$(getent passwd openclaw | cut -d: -f6) || { echo 'no openclaw user'; exit 0; }
python3 -c 'import json,sys
g = json.load(open(sys.argv[1])).get("gateway") or {}
print("bind=%s auth=%s" % (g.get("bind", ""), (g.get("auth") or {}).get("mode", "")))' "$h/.openclaw/openclaw.json" 2>&1 | tail -n 1`

// gatewayLoopbackOnly: nothing listens on the gateway's port beyond
// loopback, and the configuration binds it to loopback (so it holds when
// the gateway is not running at the moment of the check).
func gatewayLoopbackOnly(addrs []string, conf string) (bool, string) {
	fields := map[string]string{}
	for _, f := range strings.Fields(conf) {
		if k, v, ok := strings.Cut(f, "="); ok {
			fields[k] = v
		}
	}
	bind, auth := fields["bind"], fields["auth"]
	listening := "not listening now"
	if len(addrs) > 0 {
		listening = "listening on " + strings.Join(addrs, ", ")
	}
	configured := "configured bind " + orNone(nonEmpty(bind)) + ", auth " + orNone(nonEmpty(auth))
	if _, ok := fields["bind"]; !ok {
		configured = "configuration: " + lastLine(conf)
	}
	detail := fmt.Sprintf("port %d %s; %s", GatewayPort, listening, configured)
	switch {
	case !allLoopback(addrs):
		return false, detail
	case bind == "loopback":
		return true, detail
	case bind == "" && len(addrs) > 0:
		return true, detail
	}
	return false, detail
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
