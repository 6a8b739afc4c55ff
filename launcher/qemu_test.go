package launcher

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawimg/clawimg/images"
)

var fixture, _ = filepath.Abs("../build/fixture/base.qcow2")

const testKey = "sk-ant-test-0123456789-SECRET"

// openclawUser makes the fixture look like an OpenClaw image to the key
// installer: the image has an openclaw user.
const openclawUser = "#cloud-config\nusers:\n  - name: openclaw\n    shell: /bin/bash\n"

func needQEMU(t *testing.T) (*Manager, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots VMs")
	}
	if _, err := os.Stat(fixture); err != nil {
		t.Skip("no fixture: run make fixture")
	}
	home := t.TempDir()
	st, err := images.Open(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), fixture, images.ImportOptions{Tag: "fixture:1"}); err != nil {
		t.Fatal(err)
	}
	return NewManager(Config{Home: home, Accel: "tcg"}, st, nil, Drivers()), home
}

func execOut(t *testing.T, m *Manager, name string, argv ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code, err := m.Exec(context.Background(), name, argv, nil, &out, &errb)
	if err != nil {
		t.Fatalf("exec %s %v: %v (stderr %q)", name, argv, err, errb.String())
	}
	if errb.Len() > 0 {
		t.Logf("exec %s %v: stderr %q", name, argv, errb.String())
	}
	return code, strings.TrimSpace(out.String())
}

func TestQEMUInstancesEndToEnd(t *testing.T) {
	m, home := needQEMU(t)
	ctx := context.Background()
	opts := func(name, key string) LaunchOptions {
		return LaunchOptions{Image: "fixture:1", Name: name, Driver: "qemu", CPUs: 1, MemoryMiB: 1024, DiskBytes: 8 << 30,
			APIKey: key, CloudInit: []byte(openclawUser), Timeout: 8 * time.Minute}
	}
	// Two at once.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, o := range []LaunchOptions{opts("vm-a", testKey), opts("vm-b", "")} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = m.Launch(ctx, o)
		}()
	}
	wg.Wait()
	t.Cleanup(func() { m.Delete(context.Background(), nil, true) })
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A taken name fails and changes nothing.
	if _, err := m.Launch(ctx, opts("vm-a", "")); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("launch under a taken name: %v", err)
	}
	if _, err := m.Launch(ctx, opts("Bad_Name", "")); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list %+v %v", list, err)
	}
	for _, l := range list {
		if l.State != StateRunning || l.Driver != "qemu" || l.Image != "fixture:1" || !strings.HasPrefix(l.SSH, "ssh -i ") {
			t.Fatalf("row %+v", l)
		}
	}
	// exec passes the exit status through.
	if code, out := execOut(t, m, "vm-a", "sh", "-c", "echo hi; exit 7"); code != 7 || out != "hi" {
		t.Fatalf("exec: %d %q", code, out)
	}
	// Each instance has its own identity.
	_, idA := execOut(t, m, "vm-a", "cat", "/etc/machine-id")
	_, idB := execOut(t, m, "vm-b", "cat", "/etc/machine-id")
	_, hkA := execOut(t, m, "vm-a", "cat", "/etc/ssh/ssh_host_ed25519_key.pub")
	_, hkB := execOut(t, m, "vm-b", "cat", "/etc/ssh/ssh_host_ed25519_key.pub")
	if len(idA) != 32 || idA == idB || hkA == "" || hkA == hkB {
		t.Fatalf("identities: %q %q / %q %q", idA, idB, hkA, hkB)
	}
	// The key is where it must be ...
	if _, out := execOut(t, m, "vm-a", "sudo", "stat", "-c", "%a %U", "/home/openclaw/.openclaw/.env"); out != "600 openclaw" {
		t.Fatalf("key file: %q", out)
	}
	// ... beside the instance's own gateway token; an instance launched
	// without a key gets a token only.
	_, envA := execOut(t, m, "vm-a", "sudo", "cat", "/home/openclaw/.openclaw/.env")
	_, envB := execOut(t, m, "vm-b", "sudo", "cat", "/home/openclaw/.openclaw/.env")
	token := regexp.MustCompile(`(?m)^OPENCLAW_GATEWAY_TOKEN=([A-Z2-7]{26})$`)
	tokA, tokB := token.FindStringSubmatch(envA), token.FindStringSubmatch(envB)
	if !strings.HasPrefix(envA, "ANTHROPIC_API_KEY="+testKey+"\n") || tokA == nil {
		t.Fatalf("vm-a's .env: %q", envA)
	}
	if strings.Contains(envB, "ANTHROPIC_API_KEY") || tokB == nil || tokB[1] == tokA[1] {
		t.Fatalf("vm-b's .env (launched without a key): %q", envB)
	}
	// ... and nowhere else: no process argument list, no host file but the
	// instance's own disk.
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(testKey)) {
			t.Fatalf("the key is in %s", p)
		}
	}
	if out, _ := exec.Command("grep", "-rl", testKey, home).Output(); strings.TrimSpace(string(out)) != filepath.Join(home, "instances", "vm-a", "disk.qcow2") {
		t.Fatalf("files holding the key: %q", out)
	}
	if _, err := os.Stat(filepath.Join(home, "instances", "vm-a", "seed.iso")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the seed holding the key is still on the host")
	}
	// verify runs every probe in the guest. The fixture is not hardened
	// (no ufw, no OpenClaw), so those fail with their reason; identity and
	// mounts are real passes. (The hardened image passes all: issue 8.)
	v, err := m.Verify(ctx, "vm-a")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Probe{}
	for _, p := range v.Checks {
		got[p.ID] = p
	}
	if len(v.Checks) != len(ProbeIDs) || v.OK {
		t.Fatalf("verify: %+v", v)
	}
	for _, id := range ProbeIDs {
		if _, ok := got[id]; !ok {
			t.Fatalf("probe %s missing: %+v", id, v)
		}
	}
	for id, want := range map[string]bool{
		"identity.machine-id-unique": true, "identity.host-keys-unique": true, "host.no-mounts": true,
		"secrets.no-build-key": true, "firewall.active": false, "openclaw.gateway-healthy": false,
	} {
		if got[id].OK != want {
			t.Errorf("%s = %+v, want ok=%v", id, got[id], want)
		}
	}
	if !strings.Contains(got["firewall.active"].Detail, "ufw is not installed") ||
		!strings.Contains(got["identity.machine-id-unique"].Detail, "1 other instance(s) compared") {
		t.Errorf("details: %+v", v.Checks)
	}
	// The image in use cannot be removed.
	if _, err := m.store.Remove(ctx, []string{"fixture:1"}); err == nil {
		t.Fatal("rmi of an image in use succeeded")
	}
	// stop, list shows it, start again.
	if err := m.Stop(ctx, []string{"vm-b"}); err != nil {
		t.Fatal(err)
	}
	if st := state(t, m, "vm-b"); st != StateStopped {
		t.Fatalf("after stop: %s", st)
	}
	if err := m.Start(ctx, []string{"vm-b"}); err != nil {
		t.Fatal(err)
	}
	r, _ := m.Get("vm-b")
	d, _ := m.driver("qemu")
	if _, err := m.waitReady(ctx, d, r, readyWait{Timeout: 6 * time.Minute, MaxRestarts: -1}, func(string) {}); err != nil {
		t.Fatalf("after start: %v", err)
	}
	if _, id := execOut(t, m, "vm-b", "cat", "/etc/machine-id"); id != idB {
		t.Fatalf("machine-id changed across a restart: %q %q", idB, id)
	}
	// delete leaves nothing of them.
	deleted, err := m.Delete(ctx, nil, true)
	if err != nil || len(deleted) != 2 {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	for _, dir := range []string{"instances", "holds"} {
		if entries, _ := os.ReadDir(filepath.Join(home, dir)); len(entries) != 0 {
			t.Fatalf("%s left: %v", dir, entries)
		}
	}
	if out, _ := exec.Command("pgrep", "-f", filepath.Join(home, "instances")).Output(); len(out) > 0 {
		t.Fatalf("qemu still running: %s", out)
	}
}

func state(t *testing.T, m *Manager, name string) string {
	list, err := m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.Name == name {
			return l.State
		}
	}
	return "absent"
}
