package cidata

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The seed must read back with the label and names cloud-init looks for;
// isoinfo (genisoimage) or blkid are independent readers when present.
func TestSeedReadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.iso")
	files := []File{
		{"user-data", []byte("#cloud-config\nhostname: x\n")},
		{"meta-data", []byte("instance-id: i-1\nlocal-hostname: x\n")},
		{"empty", nil},
	}
	if err := WriteISO(path, "cidata", files, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("seed mode %v %v", fi.Mode(), err)
	}
	blkid, err := exec.LookPath("blkid")
	if err != nil {
		t.Skip("blkid not found")
	}
	out, err := exec.Command(blkid, "-o", "export", path).CombinedOutput()
	if err != nil {
		t.Fatalf("blkid: %v %s", err, out)
	}
	if !strings.Contains(string(out), "LABEL=cidata") || !strings.Contains(string(out), "TYPE=iso9660") {
		t.Fatalf("blkid: %s", out)
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-o", "loop,ro", "-t", "iso9660", path, mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount here: %v %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(mnt, f.Name))
		if err != nil || string(got) != string(f.Data) {
			t.Fatalf("%s: %q %v", f.Name, got, err)
		}
	}
}
