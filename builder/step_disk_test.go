package builder

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/clawimg/clawimg/hcl"
)

// TestStepDiskQEMUImgArgs makes the build's disks with real qemu-img:
// qemu_img_args' create reaches every qemu-img create, and its resize
// makes the disk grow through qemu-img resize.
func TestStepDiskQEMUImgArgs(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("no qemu-img: run make deps")
	}
	base := filepath.Join(t.TempDir(), "base.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", base, "64M").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	type info struct {
		Size   int64 `json:"virtual-size"`
		Format struct {
			Data struct {
				Lazy bool `json:"lazy-refcounts"`
			} `json:"data"`
		} `json:"format-specific"`
	}
	for _, tc := range []struct {
		name     string
		src      hcl.QEMUSource
		wantSize int64
		wantLazy bool
	}{
		{"no arguments", hcl.QEMUSource{DiskImage: true, DiskSize: 128 << 20}, 128 << 20, false},
		{"create", hcl.QEMUSource{DiskImage: true, DiskSize: 128 << 20, DiskAdditionalSize: []int64{8 << 20},
			QEMUImgArgs: &hcl.QEMUImgArgs{Create: []string{"-o", "lazy_refcounts=on"}}}, 128 << 20, true},
		{"create, empty disk for an installer", hcl.QEMUSource{DiskSize: 96 << 20,
			QEMUImgArgs: &hcl.QEMUImgArgs{Create: []string{"-o", "lazy_refcounts=on"}}}, 96 << 20, true},
		{"resize", hcl.QEMUSource{DiskImage: true, DiskSize: 256 << 20,
			QEMUImgArgs: &hcl.QEMUImgArgs{Resize: []string{"--preallocation=off"}}}, 256 << 20, false},
		{"resize, a bad argument fails", hcl.QEMUSource{DiskImage: true, DiskSize: 256 << 20,
			QEMUImgArgs: &hcl.QEMUImgArgs{Resize: []string{"--no-such-option"}}}, -1, false},
	} {
		src := tc.src
		st := &state{source: &src, basePath: base, dir: t.TempDir()}
		err := stepDisk{}.run(context.Background(), st)
		if tc.wantSize < 0 {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		for i, p := range append([]string{st.diskPath}, st.moreDisks...) {
			b, err := exec.Command("qemu-img", "info", "--output=json", p).Output()
			var got info
			if err == nil {
				err = json.Unmarshal(b, &got)
			}
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if i == 0 && got.Size != tc.wantSize {
				t.Errorf("%s: disk of %d bytes, want %d", tc.name, got.Size, tc.wantSize)
			}
			if got.Format.Data.Lazy != tc.wantLazy {
				t.Errorf("%s: disk %d lazy_refcounts %v, want %v", tc.name, i, got.Format.Data.Lazy, tc.wantLazy)
			}
		}
	}
}

// TestRemoveSocket: only a socket goes; a file the recipe names by
// mistake stays.
func TestRemoveSocket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "passwd")
	os.WriteFile(file, []byte("keep me"), 0o644)
	sock := filepath.Join(dir, "vm.monitor")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	removeSocket(file)
	removeSocket(sock)
	removeSocket(filepath.Join(dir, "missing"))
	if _, err := os.Stat(file); err != nil {
		t.Errorf("a regular file was removed: %v", err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is still there: %v", err)
	}
}
