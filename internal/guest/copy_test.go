package guest

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkg/sftp"
)

// sftpPair is an SFTP client talking to a server that serves this host's
// file system over a pipe: the guest side of a copy, without a VM.
func sftpPair(t *testing.T) *sftp.Client {
	t.Helper()
	a, b := net.Pipe()
	srv, err := sftp.NewServer(a)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	c, err := sftp.NewClientPipe(b, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); srv.Close() })
	return c
}

// listTree lists the files under dir as "path mode [content|->target]".
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := rel + " " + fi.Mode().String()
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " ->" + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			line += " " + string(b)
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestCopy(t *testing.T) {
	sc := sftpPair(t)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f.txt"), []byte("hello"), 0o640)
	os.MkdirAll(filepath.Join(src, "d", "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "d", "run.sh"), []byte("#!/bin/sh"), 0o755)
	os.WriteFile(filepath.Join(src, "d", "sub", "x"), []byte("x"), 0o600)
	os.Symlink("run.sh", filepath.Join(src, "d", "link"))
	wantD := listTree(t, filepath.Join(src, "d"))

	for _, dir := range []struct {
		name string
		copy func(sc *sftp.Client, src, dst string, r bool) (Copied, error)
	}{{"upload", Upload}, {"download", Download}} {
		t.Run(dir.name, func(t *testing.T) {
			dst := t.TempDir()
			// A file to a new name, then into an existing directory.
			if _, err := dir.copy(sc, filepath.Join(src, "f.txt"), filepath.Join(dst, "g.txt"), false); err != nil {
				t.Fatal(err)
			}
			os.Mkdir(filepath.Join(dst, "in"), 0o755)
			if _, err := dir.copy(sc, filepath.Join(src, "f.txt"), filepath.Join(dst, "in"), false); err != nil {
				t.Fatal(err)
			}
			// Over an existing file: replaced whole.
			os.WriteFile(filepath.Join(dst, "old.txt"), []byte("a much longer old content"), 0o644)
			if _, err := dir.copy(sc, filepath.Join(src, "f.txt"), filepath.Join(dst, "old.txt"), false); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"g.txt", "in/f.txt", "old.txt"} {
				b, err := os.ReadFile(filepath.Join(dst, f))
				if err != nil || string(b) != "hello" {
					t.Errorf("%s: %q %v", f, b, err)
				}
			}
			if fi, _ := os.Stat(filepath.Join(dst, "g.txt")); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want 0640", fi.Mode())
			}
			// A directory needs recursive, and then is copied whole: as the
			// new name, or into an existing directory.
			if _, err := dir.copy(sc, filepath.Join(src, "d"), filepath.Join(dst, "nd"), false); !errors.Is(err, ErrIsDirectory) {
				t.Fatalf("directory without recursive: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dst, "nd")); !os.IsNotExist(err) {
				t.Fatal("a refused copy left something")
			}
			n, err := dir.copy(sc, filepath.Join(src, "d"), filepath.Join(dst, "nd"), true)
			if err != nil {
				t.Fatal(err)
			}
			if n.Files != 2 || n.Dirs != 2 || n.Links != 1 || n.Bytes != 10 {
				t.Errorf("copied %+v", n)
			}
			if got := listTree(t, filepath.Join(dst, "nd")); got != wantD {
				t.Errorf("copy of d:\n%s\nwant:\n%s", got, wantD)
			}
			if _, err := dir.copy(sc, filepath.Join(src, "d"), filepath.Join(dst, "in"), true); err != nil {
				t.Fatal(err)
			}
			if got := listTree(t, filepath.Join(dst, "in", "d")); got != wantD {
				t.Errorf("copy into in/:\n%s", got)
			}
			// No temporary file is left anywhere.
			if all := listTree(t, dst); strings.Contains(all, ".clawimg-") {
				t.Errorf("temporary files left:\n%s", all)
			}
			// Missing source, missing destination directory.
			if _, err := dir.copy(sc, filepath.Join(src, "nope"), filepath.Join(dst, "x"), false); err == nil {
				t.Error("a missing source copied")
			}
			if _, err := dir.copy(sc, filepath.Join(src, "f.txt"), filepath.Join(dst, "no", "such", "x"), false); err == nil {
				t.Error("copied into a missing directory")
			}
		})
	}
}
