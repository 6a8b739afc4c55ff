package launcher

import (
	"fmt"
	"strings"

	"github.com/clawimg/clawimg/launcher/hostnet"
)

// keyProbe looks for the host's copy of the key (on stdin, never on a
// command line) in the guest's files and process environments, and reads
// where OpenClaw sends its model requests. Run as root.
const keyProbe = `k=$(cat)
if [ -n "$k" ]; then
  printf '%s\n' "$k" > /run/clawimg-probe.$$; chmod 0600 /run/clawimg-probe.$$
  echo "files=$(grep -rlsF -D skip --exclude-dir=node_modules --exclude=clawimg-probe.$$ -f /run/clawimg-probe.$$ /etc /home /root /run /tmp /var /opt /srv 2>/dev/null | head -n 3 | tr '\n' ' ')"
  echo "environ=$(for f in /proc/[0-9]*/environ; do grep -qsF -f /run/clawimg-probe.$$ "$f" && echo "${f%/environ}"; done | head -n 3 | tr '\n' ' ')"
  rm -f /run/clawimg-probe.$$
fi
echo "base=$(sed -n 's/^ANTHROPIC_BASE_URL=//p' ` + endpointsPath + ` 2>/dev/null)"
h=$(getent passwd openclaw | cut -d: -f6)
if [ -f "$h/.openclaw/.env" ]; then
  v=$(sed -n 's/^ANTHROPIC_API_KEY=//p' "$h/.openclaw/.env")
  case "$v" in "") echo envkey=none ;; ` + hostnet.PlaceholderKey + `) echo envkey=placeholder ;; *) echo envkey=other ;; esac
fi
[ -f "$h/.openclaw/openclaw.json" ] && python3 -c 'import json,sys
p = ((json.load(open(sys.argv[1])).get("models") or {}).get("providers") or {}).get("anthropic") or {}
print("conf=" + str(p.get("baseUrl", "")))' "$h/.openclaw/openclaw.json" 2>/dev/null
true`

// apiKeyOutsideVM reads keyProbe: the key is in no guest file or process
// environment, the gateway's .env holds the broker's placeholder (if any),
// and the provider's base URL is the broker.
func apiKeyOutsideVM(r *Record, out string, hostKey bool) (bool, string) {
	if r.Egress == "" {
		return false, "the " + r.Driver + " driver has no key broker: the API key is inside the VM (~openclaw/.openclaw/.env)"
	}
	kv := keyValues(out)
	var bad []string
	if f := strings.TrimSpace(kv.get("files")); f != "" {
		bad = append(bad, "the key is in "+f)
	}
	if p := strings.TrimSpace(kv.get("environ")); p != "" {
		bad = append(bad, "the key is in the environment of "+p)
	}
	if kv.get("envkey") == "other" {
		bad = append(bad, "~openclaw/.openclaw/.env holds a key that is not the broker's placeholder")
	}
	base := kv.get("base")
	if base != hostnet.BrokerURL {
		bad = append(bad, fmt.Sprintf("ANTHROPIC_BASE_URL is %q, not the broker %s", base, hostnet.BrokerURL))
	}
	if conf, ok := kv["conf"]; ok && conf[0] != "${ANTHROPIC_BASE_URL}" && conf[0] != hostnet.BrokerURL {
		bad = append(bad, fmt.Sprintf("OpenClaw's anthropic provider goes to %q, not the broker (rebuild the image)", conf[0]))
	}
	if len(bad) > 0 {
		return false, strings.Join(bad, "; ")
	}
	where := "no key on the host yet"
	if hostKey {
		where = "the key is on the host only: in no guest file or process environment"
	}
	return true, where + "; model requests go to the broker " + base
}

// egressProbe tries the ways out a guest must not have, as key=value
// lines. The host first (the instance's own SSH forward on the host's
// loopback, through the user network's gateway): a guest that reaches it
// has plain NAT, and then nothing is sent off the machine (no outside
// connection, no DNS query); only a guest that does not reach it tries an
// outside address (TEST-NET-1, which routes nowhere) and a name. Then a
// CONNECT through the proxy to a host no list has. Run as root; argv: the
// host port.
const egressProbe = `python3 - "$1" <<'PY'
import os, socket, subprocess, sys
def reach(host, port):
    try:
        socket.create_connection((host, port), timeout=4).close()
        return "connected"
    except Exception as e:
        return "blocked"
host = reach("10.0.2.2", int(sys.argv[1]))
print("host=" + host)
if host == "blocked":
    print("outside=" + reach("192.0.2.1", 443))
    try:
        r = subprocess.run(["getent", "hosts", "clawimg-probe.example.com"], capture_output=True, timeout=20)
        print("dns=" + ("resolved" if r.returncode == 0 else "failed"))
    except subprocess.TimeoutExpired:
        print("dns=failed")
proxy = ""
try:
    for l in open("/etc/clawimg/endpoints"):
        if l.startswith("HTTP_PROXY="):
            proxy = l.strip().split("=", 1)[1]
except OSError:
    pass
print("proxy=" + proxy)
if proxy:
    hp = proxy.split("://", 1)[-1].rstrip("/")
    h, p = hp.rsplit(":", 1)
    try:
        s = socket.create_connection((h, int(p)), timeout=10)
        s.settimeout(20)
        s.sendall(b"CONNECT clawimg-probe.invalid:443 HTTP/1.1\r\nHost: clawimg-probe.invalid:443\r\n\r\n")
        line = s.recv(200).split(b"\r\n", 1)[0].decode("latin-1")
        print("connect=" + line)
    except Exception as e:
        print("connect=no answer (" + type(e).__name__ + ")")
PY`

// egressChecks reads egressProbe into the three egress probes.
func egressChecks(r *Record, out string) (deny, dns, proxy Probe) {
	deny = Probe{ID: "egress.default-deny"}
	dns = Probe{ID: "egress.no-dns"}
	proxy = Probe{ID: "egress.proxy-enforced"}
	if r.Egress == "" {
		why := "the " + r.Driver + " driver has no egress restriction (plain NAT)"
		deny.Detail, dns.Detail, proxy.Detail = why, why, why
		return
	}
	kv := keyValues(out)
	host, outside := kv.get("host"), kv.get("outside")
	switch {
	case host == "connected":
		deny.Detail = fmt.Sprintf("the guest reaches the host (10.0.2.2:%d): plain NAT (egress %s)", r.SSHPort, r.Egress)
		dns.Detail = "not queried: the guest has plain NAT (it reached the host), so names resolve"
	case host == "blocked" && outside == "blocked":
		deny.OK = true
		deny.Detail = "direct TCP to the host (10.0.2.2) and to 192.0.2.1:443 blocked"
	case outside == "connected":
		deny.Detail = "direct TCP to 192.0.2.1:443 connected"
	default:
		deny.Detail = "probe did not run: " + lastLine(out)
	}
	switch kv.get("dns") {
	case "failed":
		dns.OK, dns.Detail = true, "clawimg-probe.example.com does not resolve"
	case "resolved":
		dns.Detail = "clawimg-probe.example.com resolved: the guest has DNS"
	}
	switch c := kv.get("connect"); {
	case kv.get("proxy") == "":
		proxy.Detail = "no proxy configured in " + endpointsPath + " (egress " + r.Egress + ")"
	case strings.Contains(c, " 403"):
		proxy.OK, proxy.Detail = true, "CONNECT clawimg-probe.invalid:443 through "+kv.get("proxy")+": "+c
	default:
		proxy.Detail = "CONNECT clawimg-probe.invalid:443 through " + kv.get("proxy") + ": " + c
	}
	return
}
