package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawimg/clawimg/internal/fakeanthropic"
	"github.com/clawimg/clawimg/launcher/hostnet"
)

// TestOpenClawImage is the product end to end, through the CLI as a user
// runs it: the built-in recipe baked on the local Debian 12 base that
// make fixture builds, warmed once (the gateway starts there, once),
// three instances restored from the warm state, each with its own identity,
// RNG, clock and gateway token in effect, a fourth with an API key, the
// isolation probes, a probe made to fail on purpose, the warm state and the
// exported image scanned for secrets, and the gateway's port reached only
// through SSH.
// It takes 20–30 minutes under emulation, so it runs only when asked:
// CLAWIMG_E2E=1 (make e2e, part of make test).
func TestOpenClawImage(t *testing.T) {
	if os.Getenv("CLAWIMG_E2E") == "" {
		t.Skip("set CLAWIMG_E2E=1 (make e2e) to build and launch the OpenClaw image")
	}
	fixture, _ := filepath.Abs("../../build/fixture/base.qcow2")
	if _, err := os.Stat(fixture); err != nil {
		t.Fatal("no fixture: run make fixture")
	}
	e := newE2E(t, "e2e")

	// Build, once; every step below shares the image.
	start := time.Now()
	buildOut, buildErr := e.must("build", "-t", "openclaw:e2e",
		"-var", "base_url="+fixture, "-var", "base_checksum=none", "-var", "base_user=debian",
		"-var", "node_source=npm", "--ca-cert", "/etc/ssl/certs/ca-certificates.crt")
	buildTime := time.Since(start)
	buildLog := buildErr + buildOut
	accel := submatch(t, buildLog, `built in \S+ with (\w+)`)
	var imgs []struct {
		Size int64 `json:"size"`
	}
	out, _ := e.must("images", "--json")
	if err := json.Unmarshal([]byte(out), &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("images --json: %v\n%s", err, out)
	}
	e.figure("build %s (%s)", buildTime.Round(time.Second), accel)
	// The same build again is up to date at once; --json says so, for
	// scripts, with the image it stands for.
	out, _ = e.must("build", "--json", "-t", "openclaw:e2e",
		"-var", "base_url="+fixture, "-var", "base_checksum=none", "-var", "base_user=debian",
		"-var", "node_source=npm", "--ca-cert", "/etc/ssl/certs/ca-certificates.crt")
	var again struct {
		Image    struct{ Name, Tag, Digest string }
		UpToDate bool `json:"up_to_date"`
	}
	if err := json.Unmarshal([]byte(out), &again); err != nil || !again.UpToDate ||
		again.Image.Name != "openclaw" || again.Image.Tag != "e2e" || !strings.Contains(buildOut, again.Image.Digest) {
		t.Errorf("build --json of an unchanged recipe: %v\n%s", err, out)
	}
	// What the install script does on every VM: boot the base, provision.
	fromScratch := stepTimes(buildLog, "boot", "ssh", "ca-certificates", "provision")
	e.figure("from scratch (boot the base + the same provisioning) %s", fromScratch)
	e.figure("image stored %s, virtual %s", mib(imgs[0].Size), submatch(t, buildLog, `stored, (\S+ \S+) virtual`))

	// Warm the image once: the gateway starts once, here. Under emulation
	// its start can miss OpenClaw's fixed 5 s start-up deadline: its
	// state-lease worker took 4-6 s to load on a 2-core TCG host until the
	// built-in recipe cached the worker's module resolution (2.6-3.3 s
	// since). Two starts are tried (each costs 3-4 minutes under TCG); when
	// both miss that deadline, and only then, the state is saved once the
	// VM is booted (--ready ssh) and everything but the running gateway is
	// checked, saying so. Any other failure fails the test.
	// CLAWIMG_E2E_GATEWAY=0 skips the start (the state is saved at ssh).
	start = time.Now()
	tryGateway := os.Getenv("CLAWIMG_E2E_GATEWAY") != "0"
	code, warmOut, warmErr := -1, "", ""
	if tryGateway {
		code, warmOut, warmErr = e.run3(nil, "warm", "openclaw:e2e", "--starts", "2", "--timeout", "10m")
	}
	gatewayUp := tryGateway && code == 0
	if !gatewayUp {
		// Any failure of the gateway to start (the 5 s deadline, or OpenClaw
		// refusing a restart after a failed start: exit 78) falls back.
		if tryGateway && !strings.Contains(warmErr, "the OpenClaw gateway did not become ready") {
			t.Fatalf("clawimg warm: exit %d\n%s\n%s", code, warmOut, tail(warmErr, 30))
		}
		if tryGateway {
			e.figure("warm: the gateway missed OpenClaw's start-up deadline (%s): %s", time.Since(start).Round(time.Second),
				submatchOr(warmErr, `(state lease heartbeat did not become ready \([^)]*\)|exit[^\n]*78[^\n]*)`, tail(warmErr, 3)))
			t.Log("NOTE: the gateway cannot start on this host; the warm state is saved at ssh and the running gateway's checks are left out")
		} else {
			t.Log("NOTE: CLAWIMG_E2E_GATEWAY=0: the gateway's start is not tried; the warm state is saved at ssh and the running gateway's checks are left out")
		}
		start = time.Now()
		warmOut, warmErr = e.must("warm", "openclaw:e2e", "--ready", "ssh")
	}
	warmTime := time.Since(start)
	e.figure("warm %s: %s", warmTime.Round(time.Second), firstLine(warmOut))
	if gatewayUp && !strings.Contains(warmOut, "gateway ready at start") {
		t.Errorf("warm does not say how many gateway starts it took:\n%s\n%s", warmOut, tail(warmErr, 10))
	}
	throwawayID := submatch(t, warmOut, `machine-id ([0-9a-f]{32}),`)
	throwawayKey := submatch(t, warmOut, `host key (SHA256:\S+)`)

	// Three instances restored from it, no API key (it stays on the host
	// from the secrets issue on; today it is delivered to one more below).
	probeLine := regexp.MustCompile(`(?m)^(ok  |FAIL) (\S+)`)
	names := []string{"oc-a", "oc-b", "oc-c"}
	type instance struct{ random, token string }
	seen := map[string]instance{}
	ids := map[string]string{}
	gatewayPID := ""
	for _, name := range names {
		args := []string{"launch", "openclaw:e2e", "--name", name, "--driver", "qemu", "--timeout", "15m"}
		switch {
		case !gatewayUp: // its gateway starts now, and cannot finish
			args = append(args, "--no-wait")
		case name == "oc-b": // and the probes at once, as launch --verify
			args = append(args, "--verify")
		}
		start := time.Now()
		code, out, errOut := e.run3(nil, args...)
		took := time.Since(start)
		t.Logf("clawimg %s: exit %d in %s\n%s", strings.Join(args, " "), code, took.Round(100*time.Millisecond), tail(errOut, 12))
		if code != 0 {
			t.Fatalf("clawimg %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, tail(errOut, 40))
		}
		if !strings.Contains(out, "(qemu driver, warm)") {
			t.Fatalf("%s was not restored warm:\n%s\n%s", name, out, tail(errOut, 20))
		}
		if !gatewayUp {
			e.waitSSH(name)
		}
		probes := probeLine.FindAllStringSubmatch(out, -1)
		if gatewayUp && name == "oc-b" && len(probes) != 19 {
			t.Errorf("launch --verify printed %d probes, want 19:\n%s", len(probes), out)
		}
		if d, err := time.ParseDuration(submatchOr(out, `(?:Ready|Started) in (\S+)`, "")); err == nil {
			took = d
		}
		upTo := "gateway ready"
		if !gatewayUp {
			upTo = "identity renewed, SSH up (state saved at ssh)"
		}
		e.figure("launch %s warm → %s %s (%.3f of from scratch): %s", name, upTo, took.Round(100*time.Millisecond),
			took.Seconds()/fromScratch.Seconds(), submatchOr(out, `((?:Ready|Started) in .*)`, ""))
		// Right after the launch: 32 random bytes, the guest's clock, the
		// token in effect.
		before := time.Now()
		out, _ = e.must("exec", name, "--", "sh", "-c", `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; echo; date +%s.%N
sudo sed -n 's/^OPENCLAW_GATEWAY_TOKEN=//p' /home/openclaw/.openclaw/.env
sudo python3 -c 'import json; print(json.load(open("/home/openclaw/.openclaw/openclaw.json"))["gateway"]["auth"]["token"])'
ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2; cat /etc/machine-id`)
		after := time.Now()
		f := strings.Split(strings.TrimSpace(out), "\n")
		if len(f) != 6 {
			t.Fatalf("%s: %q", name, out)
		}
		if f[4] == throwawayKey || f[5] == throwawayID {
			t.Errorf("%s kept the warm VM's host key or machine-id: %s %s", name, f[4], f[5])
		}
		secs, _ := strconv.ParseFloat(f[1], 64)
		guest := time.Unix(0, int64(secs*1e9))
		if guest.Before(before.Add(-2*time.Second)) || guest.After(after.Add(2*time.Second)) {
			t.Errorf("%s: guest clock %s, host %s", name, guest.Format(time.RFC3339Nano), before.Format(time.RFC3339Nano))
		}
		if f[2] == "" || f[2] != f[3] {
			t.Errorf("%s: the token in .env (%d chars) is not the one in the gateway's configuration", name, len(f[2]))
		}
		for other, o := range seen {
			if o.random == f[0] || o.token == f[2] {
				t.Errorf("%s and %s share their RNG output or gateway token", name, other)
			}
		}
		seen[name] = instance{random: f[0], token: f[2]}
		// No other token anywhere it could have been written (the warm VM's
		// own went through cloud-init into .env). OpenClaw's installed
		// package (node_modules, most of /home's bytes: minutes of grep
		// under TCG) is written by npm at build time only.
		out, _ = e.must("exec", name, "--", "sh", "-c",
			`sudo grep -rhoE --exclude-dir=node_modules 'OPENCLAW_GATEWAY_TOKEN=[A-Z0-9]+' /home /var/lib/cloud /etc 2>/dev/null | sort -u; true`)
		if got := strings.Fields(out); len(got) != 1 || got[0] != "OPENCLAW_GATEWAY_TOKEN="+f[2] {
			t.Errorf("%s: gateway tokens in its files: %d, want only its own", name, len(got))
		}
		// The running gateway takes the instance's token, and no other: its
		// authenticated tool API answers "no such tool" (404) with it, 401
		// with another.
		for want, token := range map[string]string{"404": f[2], "401": "not-the-token"} {
			if !gatewayUp {
				break
			}
			_, got := e.run(strings.NewReader("Authorization: Bearer "+token+"\n"), "exec", name, "--", "sh", "-c",
				`curl -s -o /dev/null -w %{http_code} -H @- -H 'Content-Type: application/json' -d '{"tool":"e2e-no-such-tool","args":{}}' http://127.0.0.1:18789/tools/invoke`)
			if strings.TrimSpace(got) != want {
				t.Errorf("%s: /tools/invoke with the token %q: %q, want %s", name, map[string]string{"404": "its own", "401": "a wrong one"}[want], got, want)
			}
		}
		// The probes: all pass (the gateway included: it was running before
		// the launch), and the identities differ from the others'.
		v := e.verify(name)
		for _, c := range v.Checks {
			if c.ID == "openclaw.gateway-healthy" {
				e.figure("%s gateway: %s", name, c.Detail)
				if !gatewayUp {
					continue // starting, and cannot finish on this host
				}
			}
			if !c.OK {
				t.Errorf("%s: %s fails: %s", name, c.ID, c.Detail)
			}
			if strings.HasPrefix(c.ID, "identity.") {
				id := strings.Fields(c.Detail)[0]
				if prev, dup := ids[c.ID+id]; dup {
					t.Errorf("%s and %s share %s %s", prev, name, c.ID, id)
				}
				ids[c.ID+id] = name
				if id == throwawayID || id == throwawayKey {
					t.Errorf("%s kept the warm VM's %s %s", name, c.ID, id)
				}
			}
		}
		if len(v.Checks) != 19 {
			t.Errorf("%s: %d checks, want 19", name, len(v.Checks))
		}
		// The gateway is the warm VM's own process (pids survive a restore):
		// the same in every instance, so none was started again.
		out, _ = e.must("exec", name, "--", "sh", "-c", "hostname; grep -c clawimg-warm /etc/hosts ~/.ssh/authorized_keys | tr '\\n' ' '; echo; "+
			"sudo systemctl --user -M openclaw@ show openclaw-gateway.service -p MainPID --value")
		f = strings.Split(strings.TrimSpace(out), "\n")
		if len(f) != 3 || f[0] != name || !strings.Contains(f[1], "/etc/hosts:0") || strings.Contains(f[1], "authorized_keys:1") {
			t.Errorf("%s: hostname, mentions of the warm VM: %q", name, out)
		}
		if len(f) == 3 && gatewayUp {
			if gatewayPID == "" {
				gatewayPID = f[2]
			}
			if f[2] != gatewayPID || f[2] == "0" {
				t.Errorf("%s: the gateway is process %s, in %s it was %s: it was started again", name, f[2], names[0], gatewayPID)
			}
		}
		// Two VMs at most at once: each idle gateway keeps an emulated CPU
		// busy, and the host has two.
		if name != "oc-a" {
			e.must("delete", name)
		}
	}

	// An API key: it stays on the host, behind the instance's broker. A
	// fake Anthropic endpoint on the host's loopback (HTTPS with its own
	// CA) stands for the provider and records which key each request had.
	provider := fakeanthropic.Start("pong")
	defer provider.Close()
	caFile := filepath.Join(e.dir, "provider-ca.pem")
	apiKey := "sk-ant-e2e-" + rand.Text()
	keyFile := filepath.Join(e.dir, "api-key")
	if os.WriteFile(caFile, provider.CAPEM(), 0o644) != nil || os.WriteFile(keyFile, []byte(apiKey+"\n"), 0o600) != nil {
		t.Fatal("write the provider's CA and the key")
	}
	keyArgs := []string{"launch", "openclaw:e2e", "--name", "oc-key", "--driver", "qemu", "--api-key-file", keyFile,
		"--provider-url", provider.URL, "--ca-cert", caFile, "--timeout", "15m"}
	if !gatewayUp {
		keyArgs = append(keyArgs, "--no-wait")
	}
	out, errOut := e.must(keyArgs...)
	e.figure("launch oc-key warm with an API key: %s", submatchOr(out, `((?:Ready|Started) in .*)`, "?"))
	if !gatewayUp {
		e.waitSSH("oc-key")
	}
	if !strings.Contains(out, "(qemu driver, warm)") || strings.Contains(out+errOut, apiKey) {
		t.Errorf("launch with a key: not warm, or the key printed:\n%s\n%s", out, tail(errOut, 10))
	}
	// The gateway was not restarted for the key: it never needs it.
	if gatewayUp {
		pid, _ := e.must("exec", "oc-key", "--", "sudo", "systemctl", "--user", "-M", "openclaw@", "show", "openclaw-gateway.service", "-p", "MainPID", "--value")
		if strings.TrimSpace(pid) != gatewayPID {
			t.Errorf("oc-key: the gateway is process %s, the warm VM's was %s: it was restarted", strings.TrimSpace(pid), gatewayPID)
		}
	}
	// All probes pass, the key's among them: the host's key (given to the
	// probe on stdin) is in no guest file or process environment.
	for _, c := range e.verify("oc-key").Checks {
		if !c.OK && (gatewayUp || c.ID != "openclaw.gateway-healthy") {
			t.Errorf("oc-key: %s fails: %s", c.ID, c.Detail)
		}
	}
	out, _ = e.must("exec", "oc-key", "--", "sudo", "sed", "-n", "s/^ANTHROPIC_API_KEY=//p", "/home/openclaw/.openclaw/.env")
	if strings.TrimSpace(out) != hostnet.PlaceholderKey {
		t.Errorf("oc-key's .env has ANTHROPIC_API_KEY=%q, want the broker's placeholder", strings.TrimSpace(out))
	}
	// A real OpenClaw agent turn inside the instance reaches the provider
	// through the broker, with the host's key; the placeholder never
	// leaves the host. The turn runs in the gateway (the CLI falls back to
	// running it itself when there is none): "agent exec", which runs the
	// whole agent in a cold CLI process, took 5m48s under TCG in CI; a
	// turn in the running gateway took 2m40s here.
	start = time.Now()
	code, out, errOut = e.run3(nil, "exec", "oc-key", "--", "sudo", "-u", "openclaw", "-i", "openclaw", "agent", "--agent", "main",
		"--message", "Reply with the word pong.", "--json")
	e.figure("an OpenClaw agent turn through the broker: exit %d in %s", code, time.Since(start).Round(time.Second))
	reqs := provider.Requests()
	withKey := 0
	for _, r := range reqs {
		if r.APIKey == apiKey && r.Path == "/v1/messages" {
			withKey++
		}
		if strings.Contains(r.APIKey+r.Auth, "placeholder") {
			t.Errorf("the guest's placeholder reached the provider: %+v", r)
		}
	}
	// The reply, not the prompt (which the JSON repeats).
	replied := regexp.MustCompile(`"finalAssistantVisibleText":\s*"pong"`).MatchString(out)
	if code != 0 || withKey == 0 || !replied {
		t.Errorf("agent turn: exit %d, %d request(s) at the provider with the key (of %d)\n%s\n%s", code, withKey, len(reqs), tail(out, 20), tail(errOut, 20))
	}
	// secret set: the next request carries the new key.
	newKey := "sk-ant-e2e-rotated-" + rand.Text()
	if code, _ := e.run(strings.NewReader(newKey+"\n"), "secret", "set", "oc-key", "--api-key-file", "-"); code != 0 {
		t.Errorf("secret set: exit %d", code)
	}
	// The gateway may call the provider itself meanwhile (after the agent
	// turn: CI once saw one such request here), so every request from now
	// on must carry the new key, the test's own among them (answered 200).
	n := len(provider.Requests())
	out, _ = e.must("exec", "oc-key", "--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "x-api-key: "+hostnet.PlaceholderKey,
		"-H", "content-type: application/json", "-d", `{"model":"m","max_tokens":1,"messages":[]}`, "http://10.0.2.100/v1/messages")
	after := provider.Requests()[n:]
	rotated := 0
	for _, r := range after {
		if r.APIKey == newKey {
			rotated++
		}
	}
	if strings.TrimSpace(out) != "200" || len(after) == 0 || rotated != len(after) {
		t.Errorf("after secret set: the request answered %q; the provider got %d request(s), %d with the new key, want all", out, len(after), rotated)
	}
	// A host not on the allowlist: 403 from the proxy, and a line in the log.
	out, _ = e.must("exec", "oc-key", "--", "sh", "-c", ". /etc/profile.d/clawimg-endpoints.sh; curl -s -o /dev/null -w '%{http_code}' http://example.org/; true")
	if strings.TrimSpace(out) != "403" {
		t.Errorf("example.org through the proxy: %q, want 403", out)
	}
	if log, _ := os.ReadFile(filepath.Join(e.home, "instances", "oc-key", "egress.log")); !strings.Contains(string(log), "GET example.org:80 refused") {
		t.Errorf("egress.log:\n%s", log)
	}
	// apt, and so unattended upgrades, reaches the archive through the
	// proxy (a small index only: bookworm-updates).
	aptCheck := `d=$(mktemp -d); mkdir -p $d/parts $d/lists/partial
echo 'deb http://deb.debian.org/debian bookworm-updates main' > $d/parts/e2e.list
apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$d/parts -o Dir::State::Lists=$d/lists update; r=$?; rm -rf $d; exit $r`
	if code, out := e.run(nil, "exec", "oc-key", "--", "sudo", "sh", "-c", aptCheck); code != 0 {
		t.Errorf("apt-get update through the proxy: exit %d\n%s", code, tail(out, 10))
	}
	if log, _ := os.ReadFile(filepath.Join(e.home, "instances", "oc-key", "egress.log")); !strings.Contains(string(log), "deb.debian.org:80 allowed") {
		t.Errorf("apt did not go through the proxy: egress.log:\n%s", log)
	}
	// On the host the key is in the instance's key file only (disks
	// excepted, and scanned next).
	if hits := grepTree(t, e.home, newKey); len(hits) != 1 || hits[0] != filepath.Join(e.home, "instances", "oc-key", "api-key") {
		t.Errorf("the key is on the host in %v, want the instance's api-key file only", hits)
	}
	if hits := grepTree(t, e.home, apiKey); len(hits) > 0 {
		t.Errorf("the replaced key is still on the host in %v", hits)
	}
	// Nor is it on the instance's disk once the VM is stopped.
	e.must("stop", "oc-key")
	for _, k := range []string{apiKey, newKey} {
		if at := scanFile(t, filepath.Join(e.home, "instances", "oc-key", "disk.qcow2"), regexp.MustCompile(regexp.QuoteMeta(k))); at >= 0 {
			t.Errorf("a key is on oc-key's disk at %d", at)
		}
	}
	e.must("delete", "oc-key")

	// --egress open: plain NAT, and the egress probes say so (the host
	// answers first, so they send nothing off the machine).
	e.must("launch", "openclaw:e2e", "--name", "oc-open", "--driver", "qemu", "--egress", "open", "--no-wait")
	e.waitSSH("oc-open")
	for _, c := range e.verify("oc-open").Checks {
		if strings.HasPrefix(c.ID, "egress.") && c.OK {
			t.Errorf("oc-open (egress open): %s passes: %s", c.ID, c.Detail)
		}
	}
	e.must("delete", "oc-open")

	// The stored state holds no in-use token and no key (its unpacked
	// files are what the launches restored): not the instances' tokens, not
	// the key just given to an instance restored from it, nothing shaped
	// like an Anthropic key (OpenClaw's own code in memory mentions the
	// "sk-ant-" prefix, so the prefix alone proves nothing).
	states, _ := filepath.Glob(filepath.Join(e.home, "warm", "*", "*"))
	if len(states) != 2 {
		t.Errorf("unpacked warm state files: %v", states)
	}
	// The broker's placeholder (ANTHROPIC_API_KEY=clawimg-broker-placeholder-...
	// in the gateway's .env and environment) is not a key: it is what a
	// warm state must hold, so values in its namespace are not counted. Not
	// the whole placeholder: freed heap copies of it come mangled by the
	// allocator (CI saw "clawimg-brok" then the 8 bytes of a pointer).
	keyShaped := regexp.MustCompile(`sk-ant-[a-z]+[0-9]*-[A-Za-z0-9_-]{40,}|ANTHROPIC_API_KEY=[^\s"'$]+`)
	placeholder := placeholderEnv()
	for _, f := range states {
		for name, inst := range seen {
			if at := scanFile(t, f, regexp.MustCompile(regexp.QuoteMeta(inst.token))); at >= 0 {
				t.Errorf("%s's gateway token is in the warm state's %s at %d", name, filepath.Base(f), at)
			}
		}
		if at := scanFile(t, f, regexp.MustCompile(regexp.QuoteMeta(apiKey))); at >= 0 {
			t.Errorf("the API key is in the warm state's %s at %d", filepath.Base(f), at)
		}
		if at := scanFile(t, f, keyShaped, placeholder); at >= 0 {
			t.Errorf("something shaped like an API key is in the warm state's %s at %d: %s", filepath.Base(f), at, excerpt(t, f, at))
		}
	}

	out, _ = e.must("exec", "oc-a", "--", "sh", "-c", "sudo swapon --show=NAME,SIZE --noheadings; sudo -u openclaw -i sh -c 'command -v openclaw'")
	// exec without --: the command's flags are its own.
	if out, _ := e.must("exec", "oc-a", "ls", "-la", "/home"); !strings.Contains(out, "openclaw") || !strings.Contains(out, "drwx") {
		t.Errorf("exec oc-a ls -la /home:\n%s", out)
	}
	pkgs, _ := e.must("exec", "oc-a", "--", "sh", "-c", "dpkg-query -W -f='${Status}\\n' | grep -c 'install ok installed'")
	e.figure("installed packages: %s", strings.TrimSpace(pkgs))
	if !regexp.MustCompile(`(?m)^/swapfile +2G$`).MatchString(out) || !strings.Contains(out, "/home/openclaw/.npm-global/bin/openclaw") {
		t.Errorf("swap and openclaw on the openclaw user's PATH:\n%s", out)
	}

	// The gateway's port: nothing outside reaches it; through SSH it does.
	e.tunnelReaches("oc-a", gatewayUp)

	// One probe failing on purpose.
	e.must("exec", "oc-a", "--", "sudo", "ufw", "disable")
	code, out = e.run(nil, "verify", "oc-a", "--json")
	if code != 1 {
		t.Errorf("verify after ufw disable: exit %d, want 1", code)
	}
	var v verification
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	for _, c := range v.Checks {
		if c.ID == "firewall.active" && c.OK {
			t.Errorf("firewall.active passes with ufw disabled: %s", c.Detail)
		}
	}
	code, out = e.run(nil, "verify", "oc-a")
	if code != 1 || !regexp.MustCompile(`(?m)^FAIL firewall\.active +Status: inactive`).MatchString(out) {
		t.Errorf("verify (text) exit %d:\n%s", code, out)
	}

	// The golden image holds neither the launch's API key nor the build's
	// SSH key (as authorized: the build's name also appears in logs).
	raw := filepath.Join(e.dir, "golden.raw")
	e.must("export", "openclaw:e2e", "-o", raw)
	for what, re := range map[string]*regexp.Regexp{
		"API key":   regexp.MustCompile(regexp.QuoteMeta(apiKey)),
		"build key": regexp.MustCompile(`ssh-ed25519 AAAA[A-Za-z0-9+/]+=* clawimg-build-`),
	} {
		if at := scanFile(t, raw, re); at >= 0 {
			t.Errorf("the %s is in the exported image at offset %d", what, at)
		}
	}
	os.Remove(raw)
	e.must("delete", "--all")
}

type verification struct {
	Instance string `json:"instance"`
	OK       bool   `json:"ok"`
	Checks   []struct {
		ID     string `json:"id"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

type e2e struct {
	t              *testing.T
	bin, home, dir string
}

// newE2E makes build/NAME with a clawimg binary and its home.
func newE2E(t *testing.T, name string) *e2e {
	dir, _ := filepath.Abs(filepath.Join("../../build", name))
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, bin: filepath.Join(dir, "clawimg"), home: filepath.Join(dir, "home"), dir: dir}
	if out, err := exec.Command("go", "build", "-o", e.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			e.run(nil, "list")
		}
		e.run(nil, "delete", "--all")
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	return e
}

// run runs clawimg with its own home and returns its exit code and stdout;
// stderr goes to the test log.
func (e *e2e) run(stdin io.Reader, args ...string) (int, string) {
	code, out, _ := e.run3(stdin, args...)
	return code, out
}

func (e *e2e) run3(stdin io.Reader, args ...string) (int, string, string) {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(os.Environ(), "CLAWIMG_HOME="+e.home, "ANTHROPIC_API_KEY=")
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("clawimg %s: %v", strings.Join(args, " "), err)
	}
	return code, stdout.String(), stderr.String()
}

// must runs clawimg and fails the test unless it exits 0.
func (e *e2e) must(args ...string) (stdout, stderr string) {
	e.t.Helper()
	t0 := time.Now()
	code, out, errOut := e.run3(nil, args...)
	e.t.Logf("clawimg %s: exit %d in %s", strings.Join(args, " "), code, time.Since(t0).Round(100*time.Millisecond))
	if code != 0 {
		e.t.Fatalf("clawimg %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, tail(errOut, 40))
	}
	return out, errOut
}

func (e *e2e) verify(name string) verification {
	e.t.Helper()
	code, out := e.run(nil, "verify", name, "--json")
	var v verification
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		e.t.Fatalf("verify %s --json (exit %d): %v\n%s", name, code, err, out)
	}
	if v.Instance != name || (code == 0) != v.OK {
		e.t.Errorf("verify %s: exit %d, ok %v", name, code, v.OK)
	}
	for _, c := range v.Checks {
		e.t.Logf("%s %-32s %v %s", name, c.ID, c.OK, c.Detail)
	}
	return v
}

// tunnelReaches checks that the instance's port 18789 answers through an
// SSH forward and not directly: only SSH is forwarded to the VM.
// waitSSH waits for an instance launched with --no-wait to answer.
func (e *e2e) waitSSH(name string) {
	e.t.Helper()
	for i := 0; i < 60; i++ {
		if code, _ := e.run(nil, "exec", name, "--", "true"); code == 0 {
			return
		}
		time.Sleep(2 * time.Second)
	}
	e.t.Fatalf("%s does not answer over SSH", name)
}

// tunnelReaches checks that the gateway's port is reachable through an SSH
// tunnel only (through it only when the gateway runs).
func (e *e2e) tunnelReaches(name string, gatewayUp bool) {
	e.t.Helper()
	out, _ := e.must("list", "--json")
	var rows []struct{ Name, SSH string }
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		e.t.Fatal(err)
	}
	var sshCmd []string
	for _, r := range rows {
		if r.Name == name {
			sshCmd = strings.Fields(r.SSH)
		}
	}
	if len(sshCmd) < 2 || sshCmd[0] != "ssh" {
		e.t.Fatalf("no ssh command for %s in %s", name, out)
	}
	local := freePort(e.t)
	args := append([]string{"-N", "-o", "ExitOnForwardFailure=yes", "-L", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:18789", local)}, sshCmd[1:]...)
	tun := exec.Command("ssh", args...)
	if err := tun.Start(); err != nil {
		e.t.Fatal(err)
	}
	defer func() { tun.Process.Kill(); tun.Wait() }()
	var status string
	for i := 0; i < 30 && status != "200"; i++ {
		time.Sleep(time.Second)
		status = httpStatus(fmt.Sprintf("127.0.0.1:%d", local))
	}
	if status != "200" && gatewayUp {
		e.t.Errorf("through the SSH tunnel: %s", status)
	}
	// Directly: the host has no route to the guest's port but SSH's.
	if st := httpStatus("127.0.0.1:18789"); st == "200" {
		e.t.Errorf("port 18789 answers on the host without a tunnel")
	}
}

func (e *e2e) figure(format string, args ...any) {
	e.t.Logf("FIGURE "+format, args...)
}

// httpStatus does a minimal HTTP GET / and returns the status code or the
// error.
func httpStatus(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", addr)
	line, err := bufio.NewReader(c).ReadString('\n')
	if f := strings.Fields(line); len(f) >= 2 {
		return f[1]
	}
	return fmt.Sprintf("no HTTP answer (%v)", err)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// scanFile returns the offset of the first match of re in a (sparse) file,
// or -1, reading it in overlapping windows.
func scanFile(t *testing.T, path string, re *regexp.Regexp, except ...[]byte) int64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const window, overlap = 16 << 20, 4096
	buf := make([]byte, window+overlap)
	var off int64
	carry := 0
	for {
		n, err := io.ReadFull(f, buf[carry:])
		data := buf[:carry+n]
	matches:
		for _, loc := range re.FindAllIndex(data, -1) {
			if err == nil && loc[0] >= len(data)-overlap {
				break // cut at the window's end: read again whole in the next
			}
			for _, ok := range except {
				if bytes.HasPrefix(data[loc[0]:], ok) {
					continue matches
				}
			}
			return off - int64(carry) + int64(loc[0])
		}
		if err != nil {
			return -1
		}
		off += int64(n)
		carry = copy(buf, data[len(data)-overlap:])
	}
}

// placeholderEnv is the start of every ANTHROPIC_API_KEY= setting the
// broker's placeholder key makes: the placeholder's namespace, "clawimg-".
func placeholderEnv() []byte {
	return []byte("ANTHROPIC_API_KEY=" + strings.SplitAfter(hostnet.PlaceholderKey, "-")[0])
}

// excerpt quotes the start of a scan's match, short enough that a real
// key's secret part stays out of the test log.
func excerpt(t *testing.T, path string, at int64) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 24)
	n, _ := f.ReadAt(b, at)
	return fmt.Sprintf("%q...", b[:n])
}

// grepTree lists the files under dir that contain s, disk images and
// the store's blobs excepted.
func grepTree(t *testing.T, dir, s string) []string {
	var hits []string
	re := regexp.MustCompile(regexp.QuoteMeta(s))
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "blobs" {
			return filepath.SkipDir
		}
		if err != nil || !d.Type().IsRegular() || strings.HasSuffix(p, ".qcow2") || strings.HasSuffix(p, ".raw") {
			return nil
		}
		if at := scanFile(t, p, re); at >= 0 {
			hits = append(hits, p)
		}
		return nil
	})
	return hits
}

// stepTimes sums the "==> STEP done in D" lines of a build log.
func stepTimes(log string, steps ...string) time.Duration {
	var sum time.Duration
	for _, s := range steps {
		m := regexp.MustCompile(`==> ` + regexp.QuoteMeta(s) + ` done in (\S+)`).FindStringSubmatch(log)
		if m != nil {
			d, _ := time.ParseDuration(m[1])
			sum += d
		}
	}
	return sum.Round(time.Second)
}

func submatch(t *testing.T, s, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %q in:\n%s", re, tail(s, 20))
	}
	return m[1]
}

func submatchOr(s, re, or string) string {
	if m := regexp.MustCompile(re).FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return or
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestScanFile: the e2e's secret scan finds a match anywhere, across its
// windows' seams too, and passes over the values it is told are not secrets.
func TestScanFile(t *testing.T) {
	re := regexp.MustCompile(`ANTHROPIC_API_KEY=[^\s"'$]+`)
	ok := placeholderEnv()
	full := "ANTHROPIC_API_KEY=" + hostnet.PlaceholderKey
	for _, tc := range []struct {
		name string
		at   int64
		text string
		want int64
	}{
		{"start", 0, "ANTHROPIC_API_KEY=sk-ant-x", 0},
		{"placeholder", 5, full + "\n", -1},
		{"placeholder mangled by the allocator", 5, "ANTHROPIC_API_KEY=clawimg-brokhP\x91\xe2\x55\x55\x00\x00holder-not-a-key\n", -1},
		{"placeholder then a key", 5, full + "\nANTHROPIC_API_KEY=k", 5 + int64(len(full)) + 1},
		{"placeholder on the seam", 16<<20 - 20, full + "\n", -1},
		{"key on the seam", 16<<20 - 20, "ANTHROPIC_API_KEY=sk-ant-x\n", 16<<20 - 20},
		{"past the first window", 40 << 20, "ANTHROPIC_API_KEY=k", 40 << 20},
		{"none", 7, "ANTHROPIC_API_KEY=$X", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte(tc.text), tc.at)
			f.Truncate(48 << 20)
			f.Close()
			if got := scanFile(t, p, re, ok); got != tc.want {
				t.Errorf("scanFile = %d, want %d", got, tc.want)
			}
		})
	}
}
