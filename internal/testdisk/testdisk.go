// Package testdisk makes real disk images for tests and benchmarks: an MBR
// with one bootable partition at 1 MiB holding an ext4 file system filled
// from a directory, in a sparse raw file, the shape of a cloud image.
package testdisk

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Available reports whether the tools Make needs are installed (make deps
// installs them).
func Available() error {
	for _, tool := range []string{"sfdisk", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (run make deps)", tool)
		}
	}
	return nil
}

// Make writes a raw disk of virtualSize bytes at path whose partition
// holds the files of src.
func Make(path string, virtualSize int64, src string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = f.Truncate(virtualSize)
	f.Close()
	if err != nil {
		return err
	}
	sfdisk := exec.Command("sfdisk", "-q", path)
	sfdisk.Stdin = strings.NewReader("label: dos\nstart=2048, type=83, bootable\n")
	if out, err := sfdisk.CombinedOutput(); err != nil {
		return fmt.Errorf("sfdisk: %v: %s", err, out)
	}
	fsSize := (virtualSize - 1<<20) / 1024
	// A fixed UUID and hash seed make the same files give the same disk.
	mkfs := exec.Command("mkfs.ext4", "-q", "-F", "-L", "root", "-U", fixedUUID,
		"-E", "offset=1048576,hash_seed="+fixedUUID, "-d", src, path, fmt.Sprintf("%dk", fsSize))
	mkfs.Env = append(os.Environ(), "E2FSPROGS_FAKE_TIME=1700000000")
	if out, err := mkfs.CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.ext4: %v: %s", err, out)
	}
	return nil
}

// Fill writes n files of about size bytes each into dir: text-like,
// compressible content from a fixed seed, so the same call makes the same
// files.
func Fill(dir string, seed uint64, n, size int) error {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := strings.Fields("the quick brown fox jumps over lazy dog openclaw image store chunk disk kernel module package library config value true false null")
	for i := range n {
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(words[r.IntN(len(words))])
			if r.IntN(12) == 0 {
				fmt.Fprintf(&b, " %08x\n", r.Uint32())
			} else {
				b.WriteByte(' ')
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%8), fmt.Sprintf("f%04d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

const fixedUUID = "5b1f3c2a-6d4e-4f70-8a9b-0c1d2e3f4a5b"
