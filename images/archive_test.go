package images

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTar writes entries (name -> content) as a tar file.
func writeTar(t *testing.T, path string, entries [][2]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1]))})
		tw.Write([]byte(e[1]))
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBadArchivesImportNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t)
	// A real archive, to tamper with.
	a := openStore(t)
	if _, err := a.Import(ctx, newDisk(t, dir, "d.raw", 32, 50, 10), ImportOptions{Tag: "x:1"}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.tar")
	if _, err := a.Export(ctx, "x:1", good, nil); err != nil {
		t.Fatal(err)
	}
	var entries [][2]string
	f, _ := os.Open(good)
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		var b bytes.Buffer
		b.ReadFrom(tr)
		entries = append(entries, [2]string{h.Name, b.String()})
	}
	f.Close()
	tests := []struct {
		name   string
		mutate func([][2]string) [][2]string
		want   string
	}{
		{"path traversal", func(e [][2]string) [][2]string {
			return append(e, [2]string{"../../etc/evil", "x"})
		}, `archive entry "../../etc/evil" is not part of an image layout`},
		{"absolute path", func(e [][2]string) [][2]string {
			return append([][2]string{{"/tmp/evil", "x"}}, e...)
		}, `archive entry "/tmp/evil" is not part of an image layout`},
		{"digest mismatch", func(e [][2]string) [][2]string {
			out := append([][2]string(nil), e...)
			for i := range out {
				if strings.HasPrefix(out[i][0], "blobs/") && len(out[i][1]) > 100 {
					b := []byte(out[i][1])
					b[50] ^= 1
					out[i][1] = string(b)
					break
				}
			}
			return out
		}, "does not match its digest"},
		{"missing blob", func(e [][2]string) [][2]string {
			return e[:len(e)-1] // the last chunk
		}, "archive lacks blob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.tar")
			writeTar(t, p, tt.mutate(entries))
			_, err := s.Import(ctx, p, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if list, _ := s.List(); len(list) != 0 {
				t.Fatalf("imported %v", list)
			}
			if n := blobCount(t, s); n != 0 {
				t.Fatalf("%d blobs entered the store", n)
			}
			if _, err := os.Stat("/tmp/evil"); err == nil {
				t.Fatal("an entry was written outside the store")
			}
		})
	}
}
