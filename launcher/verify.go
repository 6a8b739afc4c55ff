package launcher

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
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
	others := make(chan identities, 1)
	go func() { others <- m.identities(ctx, name) }()
	key := ""
	if r.Egress != "" {
		if b, err := os.ReadFile(r.apiKeyPath()); err == nil {
			key = strings.TrimSpace(string(b))
		}
	}
	res, err := runProbes(ctx, d, r, verifyProbes(r), strings.NewReader(key+"\n"), strconv.Itoa(r.SSHPort))
	if err != nil {
		<-others
		return nil, fmt.Errorf("verify %s: cannot run commands in the instance: %w", name, err)
	}
	run := func(probe string) (int, string) { return res[probe].Code, res[probe].Out }
	v := &Verification{Instance: name, OK: true}
	add := func(id string, ok bool, detail string) {
		v.Checks = append(v.Checks, Probe{ID: id, OK: ok, Detail: oneLine(detail)})
		v.OK = v.OK && ok
	}

	// Firewall.
	_, ufw := run("ufw")
	add("firewall.active", strings.Contains(ufw, "Status: active"), firstMatch(ufw, `Status: \S+|ufw is not installed`))
	add("firewall.default-deny-incoming", regexp.MustCompile(`Default: deny \(incoming\)`).MatchString(ufw),
		firstMatch(ufw, `Default: .*|ufw is not installed`))
	allowed, other := ufwRules(ufw)
	add("firewall.only-ssh-allowed", strings.Contains(ufw, "Status: active") && len(other) == 0 && len(allowed) > 0,
		fmt.Sprintf("allowed in: %s%s", orNone(allowed), prefixed("; other rules: ", other)))

	// fail2ban.
	code, f2b := run("fail2ban")
	add("fail2ban.sshd-jail", code == 0 && strings.Contains(f2b, "Status for the jail: sshd"), firstMatch(f2b, `Status for the jail: sshd|Currently banned:\s*\d+|.*not installed|.*does not exist.*|.*`))

	// sshd's effective configuration.
	_, sshd := run("sshd")
	pw := regexp.MustCompile(`(?m)^passwordauthentication no$`).MatchString(sshd)
	kbd := !regexp.MustCompile(`(?m)^kbdinteractiveauthentication yes$`).MatchString(sshd)
	add("sshd.password-auth-off", pw && kbd, strings.ReplaceAll(firstMatch(sshd, `(?s).*`), "\n", ", "))
	add("sshd.root-login-off", regexp.MustCompile(`(?m)^permitrootlogin no$`).MatchString(sshd), firstMatch(sshd, `permitrootlogin \S+`))

	// OpenClaw.
	gw, err := gatewayProbed(res["gateway"].Code, res["gateway"].Out)
	if err != nil {
		gw = gatewayState{Reason: err.Error()}
	}
	_, user := run("openclaw-user")
	nonRoot, who := openclawNonRoot(user, gw)
	add("openclaw.non-root", nonRoot, who)
	_, listen := run("listen")
	_, conf := run("gateway-config")
	loop, where := gatewayLoopbackOnly(listenAddrs(listen), conf)
	add("openclaw.gateway-loopback-only", loop, where)
	add("openclaw.gateway-healthy", gw.Ready, gw.String())

	// Secrets.
	_, envFile := run("env-file")
	add("secrets.api-key-file-private", envFile == "600 openclaw openclaw" || envFile == "absent", "~openclaw/.openclaw/.env: "+envFile)
	_, build := run("build-keys")
	add("secrets.no-build-key", strings.TrimSpace(build) == "0", fmt.Sprintf("%s build key(s) in authorized_keys", strings.TrimSpace(build)))

	// Identity, against the image (generalized: none) and the other instances.
	_, mid := run("machine-id")
	_, hk := run("host-key")
	ids := <-others
	add("identity.machine-id-unique", len(mid) == 32 && !ids.machineIDs[mid],
		fmt.Sprintf("%s; %d other instance(s) compared", mid, len(ids.machineIDs)))
	add("identity.host-keys-unique", strings.HasPrefix(hk, "SHA256:") && !ids.hostKeys[hk],
		fmt.Sprintf("%s; %d other instance(s) compared", hk, len(ids.hostKeys)))

	// Host mounts and updates.
	_, mounts := run("mounts")
	add("host.no-mounts", mounts == "", "shared mounts: "+orNone(strings.Fields(mounts)))
	_, apt := run("unattended")
	add("updates.unattended", strings.Contains(apt, `APT::Periodic::Unattended-Upgrade "1"`), firstMatch(apt, `APT::Periodic::Unattended-Upgrade "\d+"|.*not installed|.*`))

	// The key on the host, and the ways out.
	ok, detail := apiKeyOutsideVM(r, res["api-key"].Out, key != "")
	add("secrets.api-key-outside-vm", ok, detail)
	deny, dns, proxy := egressChecks(r, res["egress"].Out)
	for _, p := range []Probe{deny, dns, proxy} {
		add(p.ID, p.OK, p.Detail)
	}
	return v, nil
}

// hostKeyProbe prints the fingerprint of the guest's first SSH host key.
const hostKeyProbe = `for f in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$f" | awk '{print $2}'; done | sort | head -n 1`

// verifyProbes are the guest's side of Verify, run at once by runProbes:
// $1 is the instance's SSH port on the host (egressProbe), stdin the
// host's copy of the API key (keyProbe).
func verifyProbes(r *Record) []probeScript {
	ps := []probeScript{
		{Name: "ufw", Script: "command -v ufw >/dev/null || { echo 'ufw is not installed'; exit 1; }; ufw status verbose"},
		{Name: "fail2ban", Script: "command -v fail2ban-client >/dev/null || { echo 'fail2ban is not installed'; exit 1; }; fail2ban-client status sshd"},
		{Name: "sshd", Script: "sshd -T 2>&1 | grep -Ei '^(passwordauthentication|kbdinteractiveauthentication|permitrootlogin) '"},
		{Name: "gateway", Script: gatewayProbe},
		{Name: "openclaw-user", Script: openclawUserProbe},
		{Name: "listen", Script: fmt.Sprintf("ss -Hltn 'sport = :%d'", GatewayPort)},
		{Name: "gateway-config", Script: gatewayConfigProbe},
		{Name: "env-file", Script: `h=$(getent passwd openclaw | cut -d: -f6); [ -n "$h" ] || { echo 'no openclaw user'; exit 1; }; [ -e "$h/.openclaw/.env" ] || { echo absent; exit 0; }; stat -c '%a %U %G' "$h/.openclaw/.env" 2>&1`},
		{Name: "build-keys", Script: `cat /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys 2>/dev/null | grep -c 'clawimg-build-' || true`},
		{Name: "machine-id", Script: "cat /etc/machine-id"},
		{Name: "host-key", Script: hostKeyProbe},
		{Name: "mounts", Script: `findmnt -rn -o FSTYPE,TARGET | awk '$1 ~ /^(9p|virtiofs|fuse.sshfs|nfs|nfs4|cifs|smb3|vboxsf|fuse.multipass-sshfs)$/'`},
		{Name: "unattended", Script: `dpkg-query -W -f='${Status}' unattended-upgrades 2>/dev/null | grep -q 'install ok installed' || { echo 'unattended-upgrades is not installed'; exit 0; }; apt-config dump APT::Periodic::Unattended-Upgrade`},
		{Name: "api-key", Script: keyProbe, Stdin: true},
	}
	if r.Egress != "" {
		ps = append(ps, probeScript{Name: "egress", Script: egressProbe})
	}
	return ps
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
		var out bytes.Buffer
		script := "cat /etc/machine-id; " + hostKeyProbe
		if code, err := m.Exec(ctx, l.Name, []string{"sudo", "-n", "sh", "-c", script}, nil, &out, &bytes.Buffer{}); err == nil && code == 0 {
			if f := strings.Fields(out.String()); len(f) == 2 {
				ids.machineIDs[f[0]] = true
				ids.hostKeys[f[1]] = true
			}
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
