package qemu

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSwtpm starts a real swtpm (make deps installs it) for each TPM
// version: its socket takes a connection, and Stop ends it.
func TestSwtpm(t *testing.T) {
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("no swtpm: run make deps")
	}
	for _, tpm1 := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "tpm")
		s, err := StartSwtpm(context.Background(), dir, tpm1, "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("unix", s.TPM.Socket)
		if err != nil {
			t.Fatalf("tpm1=%v: connect to swtpm: %v", tpm1, err)
		}
		c.Close()
		b, _ := os.ReadFile(filepath.Join(dir, "swtpm.pid"))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("tpm1=%v: state dir %v %v, want 0700", tpm1, fi.Mode().Perm(), err)
		}
		s.Stop()
		gone := false
		for range 50 {
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				gone = true
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if pid == 0 || !gone {
			t.Errorf("tpm1=%v: swtpm (pid %d) still runs after Stop", tpm1, pid)
		}
	}
}

func TestSwtpmMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := StartSwtpm(context.Background(), t.TempDir(), false, ""); !errors.Is(err, ErrNoSwtpm) {
		t.Errorf("without swtpm: %v, want ErrNoSwtpm", err)
	}
}
