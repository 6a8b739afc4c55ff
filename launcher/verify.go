package launcher

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Probe is one isolation check run inside an instance.
type Probe struct {
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Verification is the result of `clawimg verify`.
type Verification struct {
	Instance string  `json:"instance"`
	OK       bool    `json:"ok"`
	Checks   []Probe `json:"checks"`
}

// ProbeIDs are the checks of `clawimg verify`, in order (README,
// "Verifying an instance").
var ProbeIDs = []string{
	"firewall.active", "firewall.default-deny-incoming", "firewall.only-ssh-allowed",
	"fail2ban.sshd-jail", "sshd.password-auth-off", "sshd.root-login-off",
	"openclaw.non-root", "openclaw.gateway-loopback-only", "openclaw.gateway-healthy",
	"secrets.api-key-file-private", "secrets.no-build-key",
	"identity.machine-id-unique", "identity.host-keys-unique",
	"host.no-mounts", "updates.unattended",
	"secrets.api-key-outside-vm", "egress.default-deny", "egress.no-dns", "egress.proxy-enforced",
}

// Verify runs the isolation probes inside an instance over its driver.
// Each probe is a real check in the guest; identities are compared with
// the other instances clawimg knows.
func (m *Manager) Verify(ctx context.Context, name string) (*Verification, error) {
	r, d, err := m.withDriver(name)
	if err != nil {
		return nil, err
	}
	run := func(script string) (int, string) {
		var out bytes.Buffer
		code, err := d.Exec(ctx, r, []string{"sudo", "-n", "sh", "-c", script}, nil, &out, &out)
		if err != nil {
			return -1, err.Error()
		}
		return code, strings.TrimSpace(out.String())
	}
	if code, out := run("true"); code != 0 {
		return nil, fmt.Errorf("verify %s: cannot run commands in the instance: %s", name, out)
	}
	v := &Verification{Instance: name, OK: true}
	add := func(id string, ok bool, detail string) {
		v.Checks = append(v.Checks, Probe{ID: id, OK: ok, Detail: oneLine(detail)})
		v.OK = v.OK && ok
	}

	// Firewall.
	_, ufw := run("command -v ufw >/dev/null || { echo 'ufw is not installed'; exit 1; }; ufw status verbose")
	add("firewall.active", strings.Contains(ufw, "Status: active"), firstMatch(ufw, `Status: \S+|ufw is not installed`))
	add("firewall.default-deny-incoming", regexp.MustCompile(`Default: deny \(incoming\)`).MatchString(ufw),
		firstMatch(ufw, `Default: .*|ufw is not installed`))
	allowed, other := ufwRules(ufw)
	add("firewall.only-ssh-allowed", strings.Contains(ufw, "Status: active") && len(other) == 0 && len(allowed) > 0,
		fmt.Sprintf("allowed in: %s%s", orNone(allowed), prefixed("; other rules: ", other)))

	// fail2ban.
	code, f2b := run("command -v fail2ban-client >/dev/null || { echo 'fail2ban is not installed'; exit 1; }; fail2ban-client status sshd")
	add("fail2ban.sshd-jail", code == 0 && strings.Contains(f2b, "Status for the jail: sshd"), firstMatch(f2b, `Status for the jail: sshd|Currently banned:\s*\d+|.*not installed|.*does not exist.*|.*`))

	// sshd's effective configuration.
	_, sshd := run("sshd -T 2>&1 | grep -Ei '^(passwordauthentication|kbdinteractiveauthentication|permitrootlogin) '")
	pw := regexp.MustCompile(`(?m)^passwordauthentication no$`).MatchString(sshd)
	kbd := !regexp.MustCompile(`(?m)^kbdinteractiveauthentication yes$`).MatchString(sshd)
	add("sshd.password-auth-off", pw && kbd, strings.ReplaceAll(firstMatch(sshd, `(?s).*`), "\n", ", "))
	add("sshd.root-login-off", regexp.MustCompile(`(?m)^permitrootlogin no$`).MatchString(sshd), firstMatch(sshd, `permitrootlogin \S+`))

	// OpenClaw.
	gw, err := probeGateway(ctx, d, r)
	if err != nil {
		gw = gatewayState{Reason: err.Error()}
	}
	_, user := run(openclawUserProbe)
	nonRoot, who := openclawNonRoot(user, gw)
	add("openclaw.non-root", nonRoot, who)
	_, listen := run(fmt.Sprintf("ss -Hltn 'sport = :%d'", GatewayPort))
	_, conf := run(gatewayConfigProbe)
	loop, where := gatewayLoopbackOnly(listenAddrs(listen), conf)
	add("openclaw.gateway-loopback-only", loop, where)
	add("openclaw.gateway-healthy", gw.Ready, gw.String())

	// Secrets.
	_, key := run(`h=$(getent passwd openclaw | cut -d: -f6); [ -n "$h" ] || { echo 'no openclaw user'; exit 1; }; [ -e "$h/.openclaw/.env" ] || { echo absent; exit 0; }; stat -c '%a %U %G' "$h/.openclaw/.env" 2>&1`)
	add("secrets.api-key-file-private", key == "600 openclaw openclaw" || key == "absent", "~openclaw/.openclaw/.env: "+key)
	_, build := run(`cat /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys 2>/dev/null | grep -c 'clawimg-build-' || true`)
	add("secrets.no-build-key", strings.TrimSpace(build) == "0", fmt.Sprintf("%s build key(s) in authorized_keys", strings.TrimSpace(build)))

	// Identity, against the image (generalized: none) and the other instances.
	_, mid := run("cat /etc/machine-id")
	_, hk := run("for f in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf \"$f\" | awk '{print $2}'; done | sort | head -n 1")
	others := m.identities(ctx, name)
	add("identity.machine-id-unique", len(mid) == 32 && !others.machineIDs[mid],
		fmt.Sprintf("%s; %d other instance(s) compared", mid, len(others.machineIDs)))
	add("identity.host-keys-unique", strings.HasPrefix(hk, "SHA256:") && !others.hostKeys[hk],
		fmt.Sprintf("%s; %d other instance(s) compared", hk, len(others.hostKeys)))

	// Host mounts and updates.
	_, mounts := run(`findmnt -rn -o FSTYPE,TARGET | awk '$1 ~ /^(9p|virtiofs|fuse.sshfs|nfs|nfs4|cifs|smb3|vboxsf|fuse.multipass-sshfs)$/'`)
	add("host.no-mounts", mounts == "", "shared mounts: "+orNone(strings.Fields(mounts)))
	_, apt := run(`dpkg-query -W -f='${Status}' unattended-upgrades 2>/dev/null | grep -q 'install ok installed' || { echo 'unattended-upgrades is not installed'; exit 0; }; apt-config dump APT::Periodic::Unattended-Upgrade`)
	add("updates.unattended", strings.Contains(apt, `APT::Periodic::Unattended-Upgrade "1"`), firstMatch(apt, `APT::Periodic::Unattended-Upgrade "\d+"|.*not installed|.*`))

	// The key on the host, and the ways out.
	verifyHostnet(ctx, d, r, func(p Probe) { add(p.ID, p.OK, p.Detail) })
	return v, nil
}

type identities struct{ machineIDs, hostKeys map[string]bool }

// identities gathers the machine-ids and host keys of the other running
// instances.
func (m *Manager) identities(ctx context.Context, except string) identities {
	ids := identities{machineIDs: map[string]bool{}, hostKeys: map[string]bool{}}
	list, err := m.List(ctx)
	if err != nil {
		return ids
	}
	for _, l := range list {
		if l.Name == except || l.State != StateRunning {
			continue
		}
		var mid, hk bytes.Buffer
		if code, err := m.Exec(ctx, l.Name, []string{"cat", "/etc/machine-id"}, nil, &mid, &bytes.Buffer{}); err == nil && code == 0 {
			ids.machineIDs[strings.TrimSpace(mid.String())] = true
		}
		script := "for f in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf \"$f\" | awk '{print $2}'; done | sort | head -n 1"
		if code, err := m.Exec(ctx, l.Name, []string{"sudo", "-n", "sh", "-c", script}, nil, &hk, &bytes.Buffer{}); err == nil && code == 0 {
			ids.hostKeys[strings.TrimSpace(hk.String())] = true
		}
	}
	return ids
}

var sshRule = regexp.MustCompile(`^(22|22/tcp|OpenSSH)( \(v6\))? ALLOW IN`)

// ufwRules splits `ufw status` rules into SSH allows and everything else.
func ufwRules(status string) (ssh, other []string) {
	in := false
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, "--") {
			in = true
			continue
		}
		if !in || strings.TrimSpace(l) == "" {
			continue
		}
		rule := strings.Join(strings.Fields(l), " ")
		if sshRule.MatchString(rule) {
			ssh = append(ssh, rule)
		} else {
			other = append(other, rule)
		}
	}
	return ssh, other
}

func listenAddrs(ss string) []string {
	var out []string
	for _, l := range strings.Split(ss, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 {
			out = append(out, f[3])
		}
	}
	return out
}

func allLoopback(addrs []string) bool {
	for _, a := range addrs {
		if !strings.HasPrefix(a, "127.") && !strings.HasPrefix(a, "[::1]") {
			return false
		}
	}
	return true
}

func firstMatch(s, re string) string {
	if m := regexp.MustCompile(re).FindString(s); m != "" {
		return m
	}
	return lastLine(s)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return "no output"
	}
	return s
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func prefixed(p string, xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return p + strings.Join(xs, ", ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
