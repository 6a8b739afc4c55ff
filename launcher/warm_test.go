package launcher

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawimg/clawimg/images"
)

// warmOpts is the machine of the warm tests: small, so the fixture saves
// and restores quickly.
func warmOpts() WarmOptions {
	return WarmOptions{Image: "fixture:1", CPUs: 1, MemoryMiB: 1024, DiskBytes: 8 << 30, Timeout: 8 * time.Minute}
}

func warmLaunch(name string) LaunchOptions {
	return LaunchOptions{Image: "fixture:1", Name: name, Driver: "qemu", CPUs: 1, MemoryMiB: 1024, DiskBytes: 8 << 30, Timeout: 5 * time.Minute}
}

// TestWarmLaunch warms the fixture once (a real QEMU VM under whatever
// accelerator the host has), then: a kill -9 during a second warm leaves no
// state; a corrupt chunk and another machine fall back to a cold boot with
// the reason; three warm launches each get their own identity, RNG and
// clock; the state goes with its image.
func TestWarmLaunch(t *testing.T) {
	m, home := needQEMU(t)
	ctx := context.Background()
	t.Cleanup(func() { m.Delete(context.Background(), nil, true) })

	killedWarm(t, home)
	states, err := m.store.WarmStates(imageDigest(t, m))
	if err != nil || len(states) != 0 {
		t.Fatalf("after a killed warm: %d states (%v), want none", len(states), err)
	}
	if rep, err := m.store.Check(); err != nil || len(rep.Problem) > 0 {
		t.Fatalf("store after a killed warm: %v %v", err, rep)
	}

	w, err := m.Warm(ctx, warmOpts())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warm: %s, ready %s after boot; state %s stored (memory %s, disk delta %s)", w.Took.Round(time.Second),
		w.ReadyAfter.Round(time.Second), images.HumanBytes(w.State.Size),
		images.HumanBytes(w.State.Config.Memory.Size), images.HumanBytes(w.State.Config.Disk.Size))
	if w.Throwaway.MachineID == "" || w.Throwaway.HostKey == "" {
		t.Fatalf("warm did not report its throwaway identity: %+v", w.Throwaway)
	}
	if w.Attempts != 0 {
		t.Errorf("the fixture has no gateway, yet warm counted %d starts", w.Attempts)
	}

	// A corrupt chunk of the saved memory: never restored, cold instead,
	// and the reason names the chunk; image verify names it too.
	blob := w.State.Config.Memory.Chunks[len(w.State.Config.Memory.Chunks)/2].Blob
	path := filepath.Join(home, "blobs", "sha256", strings.TrimPrefix(blob, "sha256:"))
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte{}, good...)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.store.Verify(ctx, "fixture:1", nil); err == nil || !strings.Contains(err.Error(), blob) {
		t.Errorf("image verify with a corrupt warm chunk: %v, want the blob named", err)
	}
	o := warmLaunch("cold-corrupt")
	o.NoWait = true
	l, err := m.Launch(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if l.Start != StartCold || !strings.Contains(l.ColdReason, blob) {
		t.Errorf("corrupt state: start %q, reason %q; want cold naming %s", l.Start, l.ColdReason, blob)
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	// Another machine: cold, saying what differs.
	o = warmLaunch("cold-memory")
	o.MemoryMiB, o.NoWait = 1536, true
	if l, err = m.Launch(ctx, o); err != nil {
		t.Fatal(err)
	}
	if l.Start != StartCold || !strings.Contains(l.ColdReason, "memory 1024 MiB (this launch: 1536 MiB)") {
		t.Errorf("other memory size: start %q, reason %q", l.Start, l.ColdReason)
	}
	// --cold.
	o = warmLaunch("cold-asked")
	o.Cold, o.NoWait = true, true
	if l, err = m.Launch(ctx, o); err != nil {
		t.Fatal(err)
	}
	if l.Start != StartCold || l.ColdReason != "" {
		t.Errorf("--cold: start %q, reason %q", l.Start, l.ColdReason)
	}
	if _, err := m.Delete(ctx, []string{"cold-corrupt", "cold-memory", "cold-asked"}, false); err != nil {
		t.Fatal(err)
	}

	// Three warm instances, each its own.
	type seen struct{ hostname, machineID, hostKey, random, keys string }
	var got []seen
	for _, name := range []string{"inst-a", "inst-b", "inst-c"} {
		l, err := m.Launch(ctx, warmLaunch(name))
		if err != nil {
			t.Fatal(err)
		}
		if l.Start != StartWarm {
			t.Fatalf("%s: start %q (%s), want warm", name, l.Start, l.ColdReason)
		}
		t.Logf("%s: ready in %s", name, l.Ready.Round(100*time.Millisecond))
		before := time.Now()
		_, out := execOut(t, m, name, "sh", "-c", `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; echo
date +%s.%N; hostname; cat /etc/machine-id; ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2
grep -c . ~/.ssh/authorized_keys; grep -c clawimg-warm ~/.ssh/authorized_keys /etc/hosts /etc/hostname | tr '\n' ' '`)
		after := time.Now()
		f := strings.Split(out, "\n")
		if len(f) != 7 {
			t.Fatalf("%s: probe output %q", name, out)
		}
		secs, _ := strconv.ParseFloat(f[1], 64)
		guest := time.Unix(0, int64(secs*1e9))
		if guest.Before(before.Add(-2*time.Second)) || guest.After(after.Add(2*time.Second)) {
			t.Errorf("%s: guest clock %s, host %s–%s", name, guest.Format(time.RFC3339Nano), before.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano))
		}
		s := seen{random: f[0], hostname: f[2], machineID: f[3], hostKey: f[4], keys: f[5]}
		if s.hostname != name {
			t.Errorf("%s: hostname %q", name, s.hostname)
		}
		if s.keys != "1" || !strings.Contains(f[6], ":0 /etc/hosts:0 /etc/hostname:0") {
			t.Errorf("%s: authorized keys %s, mentions of the warm VM %q", name, s.keys, f[6])
		}
		if s.machineID == w.Throwaway.MachineID || s.hostKey == w.Throwaway.HostKey {
			t.Errorf("%s kept the warm VM's identity: %+v", name, s)
		}
		for _, o := range got {
			if o.random == s.random || o.machineID == s.machineID || o.hostKey == s.hostKey {
				t.Errorf("%s shares its RNG, machine-id or host key with %s: %+v %+v", name, o.hostname, s, o)
			}
		}
		got = append(got, s)
	}
	list, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.Start != StartWarm || l.State != StateRunning {
			t.Errorf("list: %s %s %s", l.Name, l.State, l.Start)
		}
	}

	// The state goes with its image, and not before.
	if _, err := m.Delete(ctx, nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := m.store.Remove(ctx, []string{"fixture:1"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "warm.json")); strings.Contains(string(b), w.State.Digest) {
		t.Errorf("warm.json still lists the state of a removed image: %s", b)
	}
	if _, err := os.Stat(filepath.Join(home, "blobs", "sha256", strings.TrimPrefix(blob, "sha256:"))); err == nil {
		t.Errorf("a chunk of the removed image's warm state is still stored")
	}
	if entries, _ := os.ReadDir(filepath.Join(home, "warm")); len(entries) > 0 {
		t.Errorf("the unpacked warm state is still there: %v", entries)
	}
}

func imageDigest(t *testing.T, m *Manager) string {
	t.Helper()
	img, err := m.store.Resolve("fixture:1")
	if err != nil {
		t.Fatal(err)
	}
	return img.Digest
}

// killedWarm runs a warm in a child process and kills it (SIGKILL) as it
// starts storing the state.
func killedWarm(t *testing.T, home string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWarmHelperProcess$")
	cmd.Env = append(os.Environ(), "CLAWIMG_WARM_HELPER="+home)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "store the warm state") {
			time.Sleep(300 * time.Millisecond) // into the chunking
			_ = cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatal("the warm in the child process ended before it stored anything")
	}
}

// TestWarmHelperProcess is the child of killedWarm.
func TestWarmHelperProcess(t *testing.T) {
	home := os.Getenv("CLAWIMG_WARM_HELPER")
	if home == "" {
		t.Skip("helper process of TestWarmLaunch")
	}
	st, err := images.Open(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Config{Home: home, Accel: "tcg", Helper: testHelper()}, st, nil, Drivers())
	o := warmOpts()
	o.Progress = func(s string) { os.Stdout.WriteString(s + "\n") }
	_, err = m.Warm(context.Background(), o)
	t.Fatalf("the warm was not killed: %v", err)
}

// TestFindWarmReasons checks that a state saved on another machine is not
// restored, with the difference named (no VM needed).
func TestFindWarmReasons(t *testing.T) {
	if _, err := exec.LookPath(warmBinary); err != nil {
		t.Skip("no " + warmBinary)
	}
	home := t.TempDir()
	st, err := images.Open(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(home, "disk.raw")
	mbr := make([]byte, 1<<20)
	mbr[510], mbr[511] = 0x55, 0xaa // a boot sector: raw disk
	if err := os.WriteFile(raw, mbr, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := st.Import(context.Background(), raw, images.ImportOptions{Tag: "tiny:1"})
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Config{Home: home, Accel: "tcg", Helper: testHelper()}, st, nil, Drivers())
	rec := &Record{Image: "tiny:1", Digest: img.Digest, CPUs: 2, MemoryMiB: 4096, DiskBytes: 20 << 30}
	if s, _, why := m.findWarm(context.Background(), rec); s != nil || !strings.Contains(why, "no warm state of tiny:1") {
		t.Errorf("no state: %v %q", s, why)
	}
	want, err := m.warmMachine(context.Background(), 2, 4096, 20<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		change func(*WarmMachine)
		reason string
	}{
		{func(w *WarmMachine) { w.QEMUVersion = "6.2.0" }, "saved with QEMU 6.2.0 (this launch: " + want.QEMUVersion + ")"},
		{func(w *WarmMachine) { w.MemoryMiB = 2048 }, "memory 2048 MiB (this launch: 4096 MiB)"},
		{func(w *WarmMachine) { w.CPUs = 4 }, "cpus 4 (this launch: 2)"},
		{func(w *WarmMachine) { w.Accel = "kvm" }, "accelerator kvm (this launch: tcg)"},
		{func(w *WarmMachine) { w.DiskBytes = 8 << 30 }, "disk 8.0 GiB (this launch: 20.0 GiB)"},
	} {
		machine := want
		tc.change(&machine)
		if _, err := st.SaveWarm(context.Background(), images.SaveWarmOptions{Image: img.Digest, Machine: machine,
			MemoryPath: raw, DiskPath: raw, Replaces: func(json.RawMessage) bool { return true }}); err != nil {
			t.Fatal(err)
		}
		if s, _, why := m.findWarm(context.Background(), rec); s != nil || !strings.Contains(why, tc.reason) {
			t.Errorf("state %+v: restored %v, reason %q; want %q", machine, s != nil, why, tc.reason)
		}
	}
	if _, err := st.SaveWarm(context.Background(), images.SaveWarmOptions{Image: img.Digest, Machine: want,
		MemoryPath: raw, DiskPath: raw, Replaces: func(json.RawMessage) bool { return true }}); err != nil {
		t.Fatal(err)
	}
	if s, got, why := m.findWarm(context.Background(), rec); s == nil || got != want {
		t.Errorf("the fitting state was not chosen: %q", why)
	}
}
