package qemu

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/launcher"
)

// warmOpts is the machine of the warm tests: small, so the fixture saves
// and restores quickly.
func warmOpts() launcher.WarmOptions {
	return launcher.WarmOptions{Image: "fixture:1", CPUs: 1, MemoryMiB: 1024, DiskBytes: 8 << 30, Timeout: 8 * time.Minute}
}

func warmLaunch(name string) launcher.LaunchOptions {
	return launcher.LaunchOptions{Image: "fixture:1", Name: name, Driver: "qemu", CPUs: 1, MemoryMiB: 1024, DiskBytes: 8 << 30, Timeout: 5 * time.Minute}
}

// TestWarmLaunch warms the fixture once (a real QEMU VM under whatever
// accelerator the host has), then: a kill -9 during a second warm leaves no
// state; a corrupt chunk and another machine fall back to a cold boot with
// the reason; three warm launches each get their own identity, RNG and
// clock; the state goes with its image.
func TestWarmLaunch(t *testing.T) {
	m, st, home := needQEMU(t)
	ctx := context.Background()
	t.Cleanup(func() { m.Delete(context.Background(), nil, true) })

	killedWarm(t, home)
	states, err := st.WarmStates(imageDigest(t, st))
	if err != nil || len(states) != 0 {
		t.Fatalf("after a killed warm: %d states (%v), want none", len(states), err)
	}
	if rep, err := st.Check(); err != nil || len(rep.Problem) > 0 {
		t.Fatalf("store after a killed warm: %v %v", err, rep)
	}

	wo := warmOpts()
	var steps []string
	wo.Progress = func(s string) { steps = append(steps, s) }
	w, err := m.Warm(ctx, wo)
	if err != nil {
		t.Fatal(err)
	}
	// The renewal is rehearsed in a warm VM only for a running gateway's
	// token reload; the fixture has none, and pays nothing for it.
	if slices.Contains(steps, "rehearse an instance's renewal") || !slices.Contains(steps, "save the running VM") {
		t.Errorf("warm's steps: %q, want no rehearsal without a gateway", steps)
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

	// warm left the state's files unpacked, where launches look for them.
	unpacked := filepath.Join(home, "warm", strings.TrimPrefix(w.State.Digest, "sha256:"))
	if _, err := os.Stat(filepath.Join(unpacked, "memory")); err != nil {
		t.Errorf("warm did not keep the state unpacked: %v", err)
	}
	// A corrupt chunk of the saved memory, in a state not unpacked yet (as
	// after a pull): never restored, cold instead, and the reason names
	// the chunk; image verify names it too.
	if err := os.RemoveAll(unpacked); err != nil {
		t.Fatal(err)
	}
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
	if _, err := st.Verify(ctx, "fixture:1", nil); err == nil || !strings.Contains(err.Error(), blob) {
		t.Errorf("image verify with a corrupt warm chunk: %v, want the blob named", err)
	}
	o := warmLaunch("cold-corrupt")
	o.NoWait = true
	l, err := m.Launch(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if l.Start != launcher.StartCold || !strings.Contains(l.ColdReason, blob) {
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
	if l.Start != launcher.StartCold || !strings.Contains(l.ColdReason, "memory 1024 MiB (this launch: 1536 MiB)") {
		t.Errorf("other memory size: start %q, reason %q", l.Start, l.ColdReason)
	}
	// --cold.
	o = warmLaunch("cold-asked")
	o.Cold, o.NoWait = true, true
	if l, err = m.Launch(ctx, o); err != nil {
		t.Fatal(err)
	}
	if l.Start != launcher.StartCold || l.ColdReason != "" {
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
		if l.Start != launcher.StartWarm {
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
		if l.Start != launcher.StartWarm || l.State != launcher.StateRunning {
			t.Errorf("list: %s %s %s", l.Name, l.State, l.Start)
		}
	}

	// The state goes with its image, and not before.
	if _, err := m.Delete(ctx, nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Remove(ctx, []string{"fixture:1"}); err != nil {
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

func imageDigest(t *testing.T, st *images.Store) string {
	t.Helper()
	img, err := st.Resolve("fixture:1")
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
	m := launcher.NewManager(launcher.Config{Home: home, Accel: "tcg", Helper: testHelper()}, st, nil, map[string]launcher.Factory{"qemu": New})
	o := warmOpts()
	o.Progress = func(s string) { os.Stdout.WriteString(s + "\n") }
	_, err = m.Warm(context.Background(), o)
	t.Fatalf("the warm was not killed: %v", err)
}
