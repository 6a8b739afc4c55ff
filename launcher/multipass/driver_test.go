package multipass

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/testdisk"
	"github.com/clawimg/clawimg/launcher"
	"github.com/clawimg/clawimg/launcher/internal/launchertest"
)

// fake is a home whose multipass is the fake, with a small image in its
// store.
type fake struct {
	m   *launcher.Manager
	dir string // the fake's state
	cfg launcher.Config
	st  *images.Store
}

// manager is a manager of the fake's home made with cfg.
func (f fake) manager(cfg launcher.Config) *launcher.Manager {
	return launcher.NewManager(cfg, f.st, nil, map[string]launcher.Factory{"multipass": New})
}

// fakeMultipass builds testdata/fakemultipass and returns a manager whose
// multipass driver uses it, with a small image in the store.
func fakeMultipass(t *testing.T) fake {
	t.Helper()
	if err := testdisk.Available(); err != nil {
		t.Skip(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "multipass")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/fakemultipass").CombinedOutput(); err != nil {
		t.Fatalf("build the fake: %v\n%s", err, out)
	}
	fakeDir := filepath.Join(work, "fake")
	t.Setenv("FAKE_MULTIPASS_DIR", fakeDir)
	t.Setenv("FAKE_MULTIPASS_BOOT_SECONDS", "3")
	src := filepath.Join(work, "src")
	testdisk.Fill(src, 1, 5, 4096)
	disk := filepath.Join(work, "disk.raw")
	if err := testdisk.Make(disk, 32<<20, src); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(work, "home")
	st, err := images.Open(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), disk, images.ImportOptions{Tag: "small:1"}); err != nil {
		t.Fatal(err)
	}
	// Multipass's daemon reads neither /tmp nor hidden folders: the images
	// it is given live in a visible folder outside /tmp.
	// Like the real default (~/clawimg-images), under the home directory.
	userHome, err := os.UserHomeDir()
	if err != nil || strings.HasPrefix(userHome, "/tmp") || strings.Contains(userHome, "/.") {
		t.Skipf("no home directory outside /tmp and hidden folders (%q): Multipass could not read the images", userHome)
	}
	imageDir, err := os.MkdirTemp(userHome, "clawimg-test-images-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(imageDir) })
	f := fake{dir: fakeDir, cfg: launcher.Config{Home: home, MultipassBin: bin, ImageDir: imageDir}, st: st}
	f.m = f.manager(f.cfg)
	return f
}

func mpOptions(name string) launcher.LaunchOptions {
	return launcher.LaunchOptions{Image: "small:1", Name: name, Driver: "multipass", CPUs: 2, MemoryMiB: 1024, DiskBytes: 5 << 30, Timeout: time.Minute}
}

func TestMultipassDriverAgainstTheFake(t *testing.T) {
	f := fakeMultipass(t)
	m, fake := f.m, f.dir
	ctx := context.Background()
	o := mpOptions("mp-1")
	o.APIKey = launchertest.APIKey
	start := time.Now()
	res, err := m.Launch(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// Running is not ready: the launch waited for cloud-init's boot-finished.
	if time.Since(start) < 3*time.Second || res.Ready < 3*time.Second {
		t.Fatalf("ready after %v: did not wait for cloud-init", res.Ready)
	}
	// No broker: the key goes into the VM, and the launch says so.
	if !res.KeyInVM || res.Egress != "" {
		t.Fatalf("launched %+v: the key in the VM is not reported", res)
	}
	if res.SSH != "multipass shell mp-1" || res.User != "ubuntu" {
		t.Fatalf("launched %+v", res)
	}
	// The user-data (with the key) went through stdin, never argv.
	ud, _ := os.ReadFile(filepath.Join(fake, "roots", "mp-1", "user-data"))
	if !strings.Contains(string(ud), launchertest.APIKey) || !strings.HasPrefix(string(ud), "#cloud-config") {
		t.Fatalf("user-data: %s", ud)
	}
	argv, _ := os.ReadFile(filepath.Join(fake, "argv.log"))
	if strings.Contains(string(argv), launchertest.APIKey) {
		t.Fatal("the key was on a multipass command line")
	}
	if !strings.Contains(string(argv), "launch file://") || !strings.Contains(string(argv), ".img --name mp-1 --cpus 2 --memory 1024M --disk 5120M --cloud-init -") {
		t.Fatalf("launch command: %s", argv)
	}
	// exec: status through, including 4 (which multipass 1.16 loops on).
	for _, code := range []int{0, 3, 4, 7} {
		got, err := m.Exec(ctx, "mp-1", []string{"sh", "-c", "exit " + string(rune('0'+code))}, nil, os.Stdout, os.Stderr)
		if err != nil || got != code {
			t.Fatalf("exec exit %d: %d %v", code, got, err)
		}
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 1 || list[0].State != launcher.StateRunning || list[0].IPv4 != "10.21.124.56" {
		t.Fatalf("list %+v %v", list, err)
	}
	if err := m.Stop(ctx, []string{"mp-1"}); err != nil {
		t.Fatal(err)
	}
	if s := launchertest.State(t, m, "mp-1"); s != launcher.StateStopped {
		t.Fatalf("after stop: %s", s)
	}
	if err := m.Start(ctx, []string{"mp-1"}); err != nil {
		t.Fatal(err)
	}
	if s := launchertest.State(t, m, "mp-1"); s != launcher.StateRunning {
		t.Fatalf("after start: %s", s)
	}
	// A name clawimg knows is refused before multipass is asked.
	if _, err := m.Launch(ctx, mpOptions("mp-1")); !errors.Is(err, launcher.ErrNameTaken) {
		t.Fatalf("taken: %v", err)
	}
	if _, err := m.Delete(ctx, []string{"mp-1"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(fake, "roots", "mp-1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("delete did not purge the multipass instance")
	}
}

func TestMultipassErrorPaths(t *testing.T) {
	f := fakeMultipass(t)
	m := f.m
	ctx := context.Background()
	bin := f.cfg.MultipassBin
	// A name only multipass knows: multipass refuses, clawimg keeps nothing.
	if out, err := exec.Command(bin, "launch", "--name", "other").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	_, err := m.Launch(ctx, mpOptions("other"))
	if err == nil || !strings.Contains(err.Error(), `multipass: launch failed: instance "other" already exists`) {
		t.Fatalf("taken in multipass: %v", err)
	}
	if _, err := m.Get("other"); !errors.Is(err, launcher.ErrNoInstance) {
		t.Fatalf("a failed launch left a record: %v", err)
	}
	// Launch timeout: a clear error, nothing left behind.
	t.Setenv("FAKE_MULTIPASS_LAUNCH_TIMEOUT", "1")
	_, err = m.Launch(ctx, mpOptions("slow"))
	if err == nil || !strings.Contains(err.Error(), "slow: timed out waiting for response") {
		t.Fatalf("timeout: %v", err)
	}
	if _, err := m.Get("slow"); !errors.Is(err, launcher.ErrNoInstance) {
		t.Fatalf("a timed-out launch left a record: %v", err)
	}
	os.Unsetenv("FAKE_MULTIPASS_LAUNCH_TIMEOUT")
	// An instance deleted behind clawimg's back: not found, in one line.
	if _, err := m.Launch(ctx, mpOptions("gone")); err != nil {
		t.Fatal(err)
	}
	exec.Command(bin, "delete", "--purge", "gone").Run()
	_, err = m.Exec(ctx, "gone", []string{"true"}, nil, os.Stdout, os.Stderr)
	if err == nil || !strings.Contains(err.Error(), `multipass: exec failed: instance "gone" does not exist`) {
		t.Fatalf("not found: %v", err)
	}
	list, _ := m.List(ctx)
	if len(list) != 1 || list[0].State != launcher.StateUnknown {
		t.Fatalf("list of a vanished instance: %+v", list)
	}
	// The image in /tmp is refused by the snap-confined daemon.
	cfg := f.cfg
	cfg.ImageDir = t.TempDir()
	m = f.manager(cfg)
	_, err = m.Launch(ctx, mpOptions("tmp-image"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("image under /tmp: %v", err)
	}
}
