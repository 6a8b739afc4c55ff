package launcher

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGatewayState(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		ready     bool
		stopped   bool
		detail    string
		failed    int // starts that failed, when not ready
	}{
		{"not an OpenClaw image", "installed=no\n", false, false, "no OpenClaw gateway service", 1},
		{"ready", "installed=yes\nready=yes\nenvfile=yes\n", true, false, "ready on 127.0.0.1:18789 (/readyz)", 1},
		{"starting", "installed=yes\nready=no\nenvfile=yes\nActiveState=active\nSubState=running\nResult=success\nExecMainStatus=0\nNRestarts=0\nreason=\n",
			false, false, "not ready: service active/running", 1},
		{"restarting", "installed=yes\nready=no\nenvfile=yes\nActiveState=activating\nSubState=auto-restart\nResult=exit-code\nExecMainStatus=1\nNRestarts=3\nreason=\x1b[31mGateway failed to start\x1b[39m\n",
			false, false, "not ready: service activating/auto-restart, exit-code, exit status 1, 3 restart(s): Gateway failed to start", 3},
		{"exit 78 under emulation", "installed=yes\nready=no\nenvfile=yes\nActiveState=failed\nSubState=failed\nResult=exit-code\nExecMainStatus=78\nNRestarts=0\nreason=state lease heartbeat worker not ready within 5000ms\n",
			false, true, "exit status 78 (start-up refused, restarts prevented): state lease heartbeat worker not ready within 5000ms", 1},
		{"failed after 2 restarts", "installed=yes\nready=no\nenvfile=yes\nActiveState=failed\nSubState=failed\nResult=exit-code\nExecMainStatus=1\nNRestarts=2\nreason=Gateway failed to start\n",
			false, true, "Gateway failed to start", 3},
		{"no key file", "installed=yes\nready=no\nenvfile=no\nActiveState=inactive\nSubState=dead\nResult=success\nExecMainStatus=0\nNRestarts=0\nreason=\n",
			false, true, "not started: ~openclaw/.openclaw/.env", 1},
		{"no user manager", "installed=yes\nready=no\nenvfile=yes\nActiveState=no-user-manager\nreason=\n",
			false, true, "systemd manager is not running", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := parseGatewayState(tc.out)
			if g.Ready != tc.ready || g.stopped() != tc.stopped || !strings.Contains(g.String(), tc.detail) {
				t.Errorf("ready %v stopped %v %q; want %v %v %q", g.Ready, g.stopped(), g.String(), tc.ready, tc.stopped, tc.detail)
			}
			if got := g.failedStarts(); got != tc.failed {
				t.Errorf("failed starts %d, want %d", got, tc.failed)
			}
		})
	}
}

func TestOpenClawNonRoot(t *testing.T) {
	const good = "uid=1001\ngroups=openclaw\npassword=L\nsudo=no\nuserunit=yes\n"
	for _, tc := range []struct {
		name, out string
		ready     bool
		ok        bool
		detail    string
	}{
		{"serving", good + "proc=openclaw\n", true, true, "(uid 1001), serving as openclaw; openclaw: no sudo"},
		{"stopped", good, false, true, "not running now"},
		{"root process", good + "proc=openclaw\nproc=root\n", false, false, "an OpenClaw process runs as root"},
		{"system service", good + "systemunit=/etc/systemd/system/openclaw-gateway.service\n", false, false, "system service /etc/systemd/system/openclaw-gateway.service"},
		{"sudo", strings.Replace(good, "sudo=no", "sudo=yes", 1), false, false, "may run sudo"},
		{"sudo group", strings.Replace(good, "groups=openclaw", "groups=openclaw sudo", 1), false, false, "in group sudo"},
		{"password", strings.Replace(good, "password=L", "password=P", 1), false, false, "usable password"},
		{"no unit", strings.Replace(good, "userunit=yes", "userunit=no", 1), false, false, "no gateway user service"},
		{"no user", "user=none\n", false, false, "no openclaw user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, detail := openclawNonRoot(tc.out, gatewayState{Ready: tc.ready})
			if ok != tc.ok || !strings.Contains(detail, tc.detail) {
				t.Errorf("%v %q; want %v %q", ok, detail, tc.ok, tc.detail)
			}
		})
	}
}

func TestGatewayLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		addrs  []string
		conf   string
		ok     bool
		detail string
	}{
		{"listening on loopback", []string{"127.0.0.1:18789", "[::1]:18789"}, "bind=loopback auth=token", true,
			"port 18789 listening on 127.0.0.1:18789, [::1]:18789; configured bind loopback, auth token"},
		{"configured, not running", nil, "bind=loopback auth=token", true, "not listening now; configured bind loopback"},
		{"all interfaces", []string{"0.0.0.0:18789"}, "bind=loopback auth=token", false, "listening on 0.0.0.0:18789"},
		{"lan bind", nil, "bind=lan auth=token", false, "configured bind lan"},
		{"no configuration", nil, "FileNotFoundError: [Errno 2] No such file", false, "configuration: FileNotFoundError"},
		{"unconfigured but loopback", []string{"127.0.0.1:18789"}, "bind= auth=", true, "configured bind none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, detail := gatewayLoopbackOnly(tc.addrs, tc.conf)
			if ok != tc.ok || !strings.Contains(detail, tc.detail) {
				t.Errorf("%v %q; want %v %q", ok, detail, tc.ok, tc.detail)
			}
		})
	}
}

// TestGatewayReason runs the probe's reason over journals as OpenClaw
// writes them.
func TestGatewayReason(t *testing.T) {
	refused := strings.Join([]string{
		"[gateway] starting",
		`Failing check media-persistence (step-refused): Agent database maintenance deferred: lease lost | state lease heartbeat did not become ready (phase=startup, trigger=timeout, status=starting, elapsedMs=5240, timeoutMs=5000, onlineObserved=true, startupPhase=entry-not-observed) | more`,
		`Failing check migration-detection (blocked-by-prior-refusal): Migration step "migration-detection" was not run because prior step "media-persistence" refused execution.`,
	}, "\n")
	for _, tc := range []struct{ name, journal, want string }{
		{"the start-up deadline, though other lines come after", refused,
			"reason=state lease heartbeat did not become ready (phase=startup, trigger=timeout, status=starting, elapsedMs=5240, timeoutMs=5000, onlineObserved=true, startupPhase=entry-not-observed)"},
		{"else the last line that says why", "ok\nGateway failed to start: port in use\n[sqlite] slow SQLite transaction, error budget\nbye",
			"reason=Gateway failed to start: port in use"},
		{"nothing", "all well\n", "reason="},
	} {
		cmd := exec.Command("sh", "-c", gatewayReason)
		cmd.Stdin = strings.NewReader(tc.journal)
		out, err := cmd.Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("%s: %q (%v), want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestGuestScriptsParse checks the shell of the scripts run in guests
// (sh -n), which otherwise only a VM would find wrong.
func TestGuestScriptsParse(t *testing.T) {
	for name, script := range map[string]string{"gatewayProbe": gatewayProbe, "reidentifyScript": reidentifyScript, "renewalWaitScript": renewalWaitScript,
		"dropScript": dropScript, "zeroScript": zeroScript, "settleScript": settleScript,
		"verify's probes": probeBatch("==b", verifyProbes(&Record{Egress: "proxy"}))} {
		if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
}

// TestGatewayProbeAsksSystemdOnlyWhenNotReady runs gatewayProbe on this
// host with the guest's commands stubbed: the service's state and the
// journal are read for the reason only when the gateway is not ready.
func TestGatewayProbeAsksSystemdOnlyWhenNotReady(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ready      bool
	}{
		{"ready", `{"ready":true,"failing":[]}`, true},
		{"not ready", `{"ready":false}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, dir := stubbedShell(t, gatewayProbe, map[string]string{
				"id":         "echo 4242",
				"getent":     `echo "openclaw:x:4242:4242::$D/home:/bin/sh"`,
				"curl":       "printf '%s' '" + tc.body + "'",
				"journalctl": `touch "$D/journal-read"; echo 'Gateway failed to start: port in use'`,
			})
			home := filepath.Join(dir, "home")
			os.MkdirAll(filepath.Join(home, ".config/systemd/user"), 0o755)
			os.WriteFile(filepath.Join(home, ".config/systemd/user", gatewayUnit), nil, 0o644)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			g := parseGatewayState(string(out))
			_, statErr := os.Stat(filepath.Join(dir, "journal-read"))
			read, asked := statErr == nil, g.Active != "" // no user manager here: the probe says so when it asks
			if g.Ready != tc.ready || read == tc.ready || asked == tc.ready {
				t.Errorf("ready %v, journal read %v, service state asked %v; want ready %v and both only when not ready\n%s", g.Ready, read, asked, tc.ready, out)
			}
			if want := map[bool]string{true: "", false: "Gateway failed to start: port in use"}[tc.ready]; g.Reason != want {
				t.Errorf("reason %q, want %q", g.Reason, want)
			}
		})
	}
}

// stubbedShell is script run by sh on this host as in a guest, with the
// commands in stubs (name: shell body) found first on PATH. The stubs and
// the script see the returned directory as $D.
func stubbedShell(t *testing.T, script string, stubs map[string]string) (*exec.Cmd, string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "D="+dir)
	return cmd, dir
}
