package images

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestHelperImport is not a test: it is the importer process that the
// tests below start, kill and race. It runs only when asked to.
func TestHelperImport(t *testing.T) {
	home, disk, tag := os.Getenv("HELPER_HOME"), os.Getenv("HELPER_DISK"), os.Getenv("HELPER_TAG")
	if home == "" {
		t.Skip("helper process only")
	}
	s, err := Open(home, nil)
	if err == nil {
		_, err = s.Import(context.Background(), disk, ImportOptions{Tag: tag})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helperImport(home, disk, tag string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperImport$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HELPER_HOME="+home, "HELPER_DISK="+disk, "HELPER_TAG="+tag)
	return cmd
}

// checkStore verifies every image in the store.
func checkStore(t *testing.T, s *Store) []Image {
	t.Helper()
	list, err := s.List()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, img := range list {
		if _, err := s.Verify(context.Background(), img.Ref(), nil); err != nil {
			t.Fatalf("verify %s: %v", img.Ref(), err)
		}
	}
	return list
}

func TestKillDuringImportLeavesAValidStore(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	s := openStore(t)
	if _, err := s.Import(context.Background(), newDisk(t, dir, "first.raw", 64, 20, 30), ImportOptions{Tag: "first:1"}); err != nil {
		t.Fatal(err)
	}
	big := newDisk(t, dir, "big.raw", 512, 21, 2500)
	// Time one whole import to spread the kills over it.
	start := time.Now()
	if out, err := helperImport(t.TempDir(), big, "probe:1").CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	whole := time.Since(start)
	killed := 0
	for i := 1; i <= 8; i++ {
		cmd := helperImport(s.Root(), big, "big:1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(whole * time.Duration(i) / 7) // the last ones may finish
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err != nil {
			killed++
		}
		list := checkStore(t, s)
		for _, img := range list {
			if img.Ref() != "first:1" && img.Ref() != "big:1" {
				t.Fatalf("unexpected image %s after a kill", img.Ref())
			}
		}
		// Start over for the next kill, as a user would.
		if _, err := s.Remove(context.Background(), []string{"big:1"}); err != nil && len(list) > 1 {
			t.Fatal(err)
		}
	}
	if killed == 0 {
		t.Fatal("no import was killed before it finished")
	}
	img, err := s.Import(context.Background(), big, ImportOptions{Tag: "big:1"})
	if err != nil {
		t.Fatalf("re-import after kills: %v", err)
	}
	checkStore(t, s)
	rep, err := s.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tmps, _ := os.ReadDir(s.tmpDir()); len(tmps) != 0 {
		t.Fatalf("prune left %d temp files", len(tmps))
	}
	t.Logf("killed %d of 8 imports of %s (whole import %v); prune freed %d bytes", killed, HumanBytes(img.VirtualSize), whole, rep.Freed)
}

func TestTwoImportersAtOnce(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t)
	a := newDisk(t, dir, "a.raw", 256, 30, 800)
	b := newDisk(t, dir, "b.raw", 256, 31, 800)
	ca, cb := helperImport(s.Root(), a, "a:1"), helperImport(s.Root(), b, "b:1")
	if err := ca.Start(); err != nil {
		t.Fatal(err)
	}
	if err := cb.Start(); err != nil {
		t.Fatal(err)
	}
	// A reader meanwhile never sees a broken store.
	for range 20 {
		checkStore(t, s)
		time.Sleep(20 * time.Millisecond)
	}
	if err := ca.Wait(); err != nil {
		t.Fatalf("importer a: %v", err)
	}
	if err := cb.Wait(); err != nil {
		t.Fatalf("importer b: %v", err)
	}
	list := checkStore(t, s)
	if len(list) != 2 {
		t.Fatalf("want both images, got %v", list)
	}
	for _, x := range []struct{ ref, disk string }{{"a:1", a}, {"b:1", b}} {
		out := filepath.Join(dir, "out.raw")
		if _, err := s.Export(context.Background(), x.ref, out, nil); err != nil {
			t.Fatal(err)
		}
		sameFile(t, x.disk, out)
	}
}
