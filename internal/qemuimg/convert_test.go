package qemuimg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestConvert(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("no qemu-img (make deps)")
	}
	dir := t.TempDir()
	raw := filepath.Join(dir, "d.raw")
	f, _ := os.Create(raw)
	f.Truncate(64 << 20)
	f.WriteAt([]byte("data"), 32<<20)
	f.Close()
	var reports []int64
	err := Convert(context.Background(), nil, 64<<20, func(done, total int64) {
		if total != 64<<20 {
			t.Errorf("total %d", total)
		}
		reports = append(reports, done)
	}, "-f", "raw", "-O", "qcow2", raw, filepath.Join(dir, "d.qcow2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) < 2 || reports[len(reports)-1] != 64<<20 {
		t.Errorf("progress reports %v: want several, ending at the total", reports)
	}
	for i := 1; i < len(reports); i++ {
		if reports[i] < reports[i-1] {
			t.Errorf("progress went back: %v", reports)
		}
	}
	err = Convert(context.Background(), nil, 1, nil, "-f", "raw", "-O", "qcow2", filepath.Join(dir, "nope.raw"), filepath.Join(dir, "x.qcow2"))
	if err == nil || !strings.HasPrefix(err.Error(), "qemu-img convert: Could not open") {
		t.Errorf("a missing input: %v", err)
	}
}

func TestReadInfo(t *testing.T) {
	dir := t.TempDir()
	q, raw := filepath.Join(dir, "d.qcow2"), filepath.Join(dir, "d.raw")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", q, "1M").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	os.WriteFile(raw, make([]byte, 4096), 0o644)
	for path, want := range map[string]Info{q: {"qcow2", 1 << 20}, raw: {"raw", 4096}} {
		if got, err := ReadInfo(context.Background(), nil, path); err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", path, got, err, want)
		}
	}
	if _, err := ReadInfo(context.Background(), nil, filepath.Join(dir, "nosuch")); err == nil {
		t.Error("a missing file has a format")
	}
}
