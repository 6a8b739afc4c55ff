package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
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

// readTar returns a tar file's entries (name, content) in order.
func readTar(t *testing.T, path string) [][2]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries [][2]string
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
	return entries
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
	entries := readTar(t, good)
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
		{"invalid image name", func(e [][2]string) [][2]string {
			out := append([][2]string(nil), e...)
			for i := range out {
				if out[i][0] == "index.json" {
					out[i][1] = strings.Replace(out[i][1], `"x:1"`, `"Not A Name!:1"`, 1)
				}
			}
			return out
		}, "archive names an invalid image"},
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

// TestArchiveEntriesAreBoundedBeforeWriting: a sparse entry (a few KiB of
// archive standing for 256 MiB of zeros, listed by a valid manifest), an
// entry that claims to be larger than any blob, and a blob given twice are
// refused before anything is written, and nothing is left in tmp/.
func TestArchiveEntriesAreBoundedBeforeWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t)
	tmpEmpty := func(what string) {
		t.Helper()
		if entries, _ := os.ReadDir(s.tmpDir()); len(entries) > 0 {
			t.Errorf("%s: %d files left in tmp/", what, len(entries))
		}
		if list, _ := s.List(); len(list) > 0 {
			t.Errorf("%s: images stored: %v", what, list)
		}
	}

	// A PAX sparse file named after the digest of its expanded content.
	if _, err := exec.LookPath("tar"); err == nil {
		zeros := filepath.Join(dir, "blobs", "sha256")
		if err := os.MkdirAll(zeros, 0o755); err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		chunk := make([]byte, 1<<20)
		for range 256 {
			h.Write(chunk)
		}
		name := filepath.Join(zeros, hex.EncodeToString(h.Sum(nil)))
		f, _ := os.Create(name)
		f.Truncate(256 << 20)
		f.Close()
		sparse := filepath.Join(dir, "sparse.tar")
		if out, err := exec.Command("tar", "-C", dir, "--format=pax", "--sparse", "-cf", sparse, "blobs").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		if fi, _ := os.Stat(sparse); fi.Size() > 64<<10 {
			t.Fatalf("the sparse archive is %d bytes", fi.Size())
		}
		_, err := s.Import(ctx, sparse, ImportOptions{Tag: "sparse:1"})
		if err == nil || !strings.Contains(err.Error(), "is a sparse file") {
			t.Errorf("sparse entry: %v", err)
		}
		tmpEmpty("sparse entry")
	}

	// A header that claims 1 TiB, with nothing behind it.
	huge := filepath.Join(dir, "huge.tar")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + strings.Repeat("ab", 32), Mode: 0o644, Size: 1 << 40})
	tw.Flush()
	if err := os.WriteFile(huge, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, huge, ImportOptions{Tag: "huge:1"}); err == nil || !strings.Contains(err.Error(), "larger than any blob") {
		t.Errorf("1 TiB entry: %v", err)
	}
	tmpEmpty("1 TiB entry")

	// The same blob twice.
	blob := "some bytes"
	sum := sha256.Sum256([]byte(blob))
	twice := filepath.Join(dir, "twice.tar")
	entry := [2]string{"blobs/sha256/" + hex.EncodeToString(sum[:]), blob}
	writeTar(t, twice, [][2]string{entry, entry})
	if _, err := s.Import(ctx, twice, ImportOptions{Tag: "twice:1"}); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("a blob twice: %v", err)
	}
	tmpEmpty("a blob twice")
}

// TestArchiveConfigsAreChecked: an archive whose config says what no
// image of ours says (a chunk size that would make the decoder take
// GiBs, negative, overlapping or out-of-disk chunks, impossible sizes, a
// chunk its manifest does not list) is refused, consistently re-hashed so
// that only the content is wrong; nothing is stored.
func TestArchiveConfigsAreChecked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openStore(t)
	if _, err := a.Import(ctx, newDisk(t, dir, "d.raw", 32, 51, 10), ImportOptions{Tag: "x:1"}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.tar")
	if _, err := a.Export(ctx, "x:1", good, nil); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var order []string
	for _, e := range readTar(t, good) {
		files[e[0]], order = []byte(e[1]), append(order, e[0])
	}
	var idx Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	blobName := func(d string) string { return "blobs/sha256/" + strings.TrimPrefix(d, "sha256:") }
	var man Manifest
	json.Unmarshal(files[blobName(idx.Manifests[0].Digest)], &man)
	var cfg Config
	json.Unmarshal(files[blobName(man.Config.Digest)], &cfg)
	if len(cfg.Chunks) < 2 {
		t.Fatalf("the test disk has %d chunks", len(cfg.Chunks))
	}
	// rebuild writes an archive with the config edited and every digest
	// that depends on it recomputed.
	rebuild := func(edit func(*Config)) string {
		c := cfg
		c.Chunks = append([]Chunk(nil), cfg.Chunks...)
		edit(&c)
		cb := marshal(c)
		m := man
		m.Config.Digest, m.Config.Size = digestOf(cb), int64(len(cb))
		mb := marshal(m)
		ix := idx
		ix.Manifests = []Descriptor{idx.Manifests[0]}
		ix.Manifests[0].Digest, ix.Manifests[0].Size = digestOf(mb), int64(len(mb))
		var entries [][2]string
		for _, name := range order {
			switch name {
			case "index.json":
				entries = append(entries, [2]string{name, string(marshal(ix))})
			case blobName(man.Config.Digest):
				entries = append(entries, [2]string{blobName(m.Config.Digest), string(cb)})
			case blobName(idx.Manifests[0].Digest):
				entries = append(entries, [2]string{blobName(ix.Manifests[0].Digest), string(mb)})
			default:
				entries = append(entries, [2]string{name, string(files[name])})
			}
		}
		p := filepath.Join(dir, "crafted.tar")
		writeTar(t, p, entries)
		return p
	}
	stranger := "sha256:" + strings.Repeat("ab", 32)
	for name, edit := range map[string]func(*Config){
		"chunk size 4 GiB":        func(c *Config) { c.ChunkSize = 4 << 30 },
		"negative offset":         func(c *Config) { c.Chunks[0].Offset = -4096 },
		"overlapping chunks":      func(c *Config) { c.Chunks[1].Offset = c.Chunks[0].Offset },
		"chunk past the disk":     func(c *Config) { c.VirtualSize = c.Chunks[len(c.Chunks)-1].Offset },
		"size -1":                 func(c *Config) { c.VirtualSize = -1 },
		"size 4 EiB":              func(c *Config) { c.VirtualSize = 4 << 60 },
		"length -1":               func(c *Config) { c.Chunks[0].Length = -1 },
		"chunk not in the layers": func(c *Config) { c.Chunks[0].Blob = stranger },
	} {
		s := openStore(t)
		_, err := s.Import(ctx, rebuild(edit), ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), "config sha256:") {
			t.Errorf("%s: %v, want the config refused", name, err)
		}
		if list, _ := s.List(); len(list) != 0 {
			t.Errorf("%s: imported %v", name, list)
		}
	}
	// The same archive rebuilt without an edit imports (the test's own
	// rewriting is sound).
	if _, err := openStore(t).Import(ctx, rebuild(func(*Config) {}), ImportOptions{}); err != nil {
		t.Fatalf("unedited: %v", err)
	}
}
