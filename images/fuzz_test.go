package images

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzImportArchive feeds arbitrary bytes to import as an archive: it must
// refuse them or store an image that verifies, never panic, hang, or leave
// files in tmp/. make test runs it for a count of inputs.
func FuzzImportArchive(f *testing.F) {
	dir := f.TempDir()
	a, err := Open(filepath.Join(dir, "seed"), nil)
	if err != nil {
		f.Fatal(err)
	}
	disk := filepath.Join(dir, "d.raw")
	mbr := make([]byte, 256<<10)
	mbr[510], mbr[511] = 0x55, 0xaa
	copy(mbr[4096:], "some data in the second block")
	if err := os.WriteFile(disk, mbr, 0o644); err != nil {
		f.Fatal(err)
	}
	if _, err := a.Import(context.Background(), disk, ImportOptions{Tag: "seed:1"}); err != nil {
		f.Fatal(err)
	}
	tarPath := filepath.Join(dir, "seed.tar")
	if _, err := a.Export(context.Background(), "seed:1", tarPath, nil); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(tarPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		home := t.TempDir()
		s, err := Open(filepath.Join(home, "store"), nil)
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(home, "in.tar")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := s.Import(context.Background(), in, ImportOptions{Tag: "fuzz:1"})
		if err == nil {
			if _, err := s.Verify(context.Background(), img.Digest, nil); err != nil {
				t.Fatalf("an imported archive does not verify: %v", err)
			}
		}
		if entries, _ := os.ReadDir(s.tmpDir()); len(entries) > 0 {
			t.Fatalf("%d files left in tmp/", len(entries))
		}
	})
}

// FuzzConfig feeds arbitrary JSON to the config and manifest checks: a
// config they accept must describe chunks inside the disk, in order, each
// among the manifest's layers and no longer than the chunk size.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(`{"virtual_size":8388608,"chunk_size":4194304,"chunks":[{"offset":0,"length":4194304,"sha256":"","blob":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}`),
		[]byte(`{"config":{"digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"},"layers":[{"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}`))
	f.Add([]byte(`{"virtual_size":-1,"chunk_size":0,"chunks":[{"offset":-5,"length":9}]}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, cfgJSON, manJSON []byte) {
		var m Manifest
		if json.Unmarshal(manJSON, &m) != nil {
			return
		}
		if _, err := decodeConfig(&m, cfgJSON); err != nil {
			return
		}
		var cfg Config
		if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
			t.Fatalf("accepted a config that does not decode: %v", err)
		}
		end := int64(0)
		for i, c := range cfg.Chunks {
			if c.Offset < end || c.Length <= 0 || c.Length > cfg.ChunkSize || c.Offset+c.Length > cfg.VirtualSize || cfg.ChunkSize > MaxChunkSize {
				t.Fatalf("accepted chunk %d %+v of %+v", i, c, cfg)
			}
			end = c.Offset + c.Length
		}
	})
}
