package builder

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestCompressFile writes a file in each format and reads it back.
func TestCompressFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "disk.qcow2")
	data := bytes.Repeat([]byte("clawimg disk "), 50000)
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	untar := func(r io.Reader) ([]byte, string) {
		tr := tar.NewReader(r)
		hdr, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		return b, hdr.Name
	}
	for _, format := range []string{".tar", ".tar.gz", ".tgz", ".gz", ".zip", ".tar.zst", ".zst"} {
		var buf bytes.Buffer
		if err := compressFile(&buf, in, format, 1); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		var got []byte
		name := "disk.qcow2"
		switch format {
		case ".tar":
			got, name = untar(&buf)
		case ".tar.gz", ".tgz", ".gz":
			z, err := gzip.NewReader(&buf)
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if format == ".gz" {
				got, _ = io.ReadAll(z)
			} else {
				got, name = untar(z)
			}
		case ".zip":
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil || len(zr.File) != 1 {
				t.Fatalf("%s: %v", format, err)
			}
			rc, _ := zr.File[0].Open()
			got, _ = io.ReadAll(rc)
			name = zr.File[0].Name
		case ".tar.zst", ".zst":
			z, err := zstd.NewReader(&buf)
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if format == ".zst" {
				got, _ = io.ReadAll(z)
			} else {
				got, name = untar(z)
			}
		}
		if !bytes.Equal(got, data) || name != "disk.qcow2" {
			t.Errorf("%s: %d bytes back as %q, want %d as disk.qcow2", format, len(got), name, len(data))
		}
	}
}
