package images

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// saveTestWarm stores a warm state of image made of two small files; the
// machine is whatever JSON the caller gives.
func saveTestWarm(t *testing.T, s *Store, image string, machine any, seed byte) *WarmState {
	t.Helper()
	dir := t.TempDir()
	mem, disk := filepath.Join(dir, "memory"), filepath.Join(dir, "disk")
	if err := os.WriteFile(mem, bytes.Repeat([]byte{seed, 1, 2, 3}, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(disk, bytes.Repeat([]byte{seed, 9}, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := s.SaveWarm(context.Background(), SaveWarmOptions{Image: image, Machine: machine, MemoryPath: mem, DiskPath: disk,
		Replaces: func(m json.RawMessage) bool { return string(m) == string(mustJSON(machine)) }})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestWarmStatesGoWithTheirImage: a state is listed beside its image,
// replaced by a newer one of the same machine, unpacked byte for byte, and
// removed with its chunks when the image goes.
func TestWarmStatesGoWithTheirImage(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	dir := t.TempDir()
	disk := newDisk(t, dir, "one.raw", 64, 8, 200)
	img, err := s.Import(ctx, disk, ImportOptions{Tag: "img:1"})
	if err != nil {
		t.Fatal(err)
	}
	a := saveTestWarm(t, s, img.Digest, map[string]int{"memory": 1}, 1)
	b := saveTestWarm(t, s, img.Digest, map[string]int{"memory": 2}, 2)
	states, err := s.WarmStates(img.Digest)
	if err != nil || len(states) != 2 || states[0].Digest != b.Digest {
		t.Fatalf("states: %v %v", states, err)
	}
	c := saveTestWarm(t, s, img.Digest, map[string]int{"memory": 2}, 3) // replaces b
	if states, _ = s.WarmStates(img.Digest); len(states) != 2 || states[0].Digest != c.Digest || states[1].Digest != a.Digest {
		t.Fatalf("after replacing: %v", states)
	}
	if d, err := s.Inspect("img:1"); err != nil || len(d.Warm) != 2 {
		t.Fatalf("inspect lists %d warm states: %v", len(d.Warm), err)
	}
	u, err := s.UnpackWarm(ctx, &states[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(u.Memory); !bytes.Equal(got, bytes.Repeat([]byte{3, 1, 2, 3}, 3<<20)) {
		t.Fatalf("unpacked memory differs (%d bytes)", len(got))
	}
	if fi, err := os.Stat(u.Disk); err != nil || fi.Mode().Perm() != 0o444 {
		t.Fatalf("unpacked disk: %v %v", fi, err)
	}
	// Prune keeps them (the image is tagged); rmi takes them.
	if _, err := s.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if states, _ = s.WarmStates(img.Digest); len(states) != 2 {
		t.Fatalf("prune removed warm states of a tagged image: %v", states)
	}
	if err := s.VerifyWarm(ctx, &states[1], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, []string{"img:1"}); err != nil {
		t.Fatal(err)
	}
	if states, _ = s.WarmStates(img.Digest); len(states) != 0 {
		t.Fatalf("states outlived their image: %v", states)
	}
	entries, _ := os.ReadDir(s.blobDir())
	if len(entries) != 0 {
		t.Fatalf("%d blobs left after removing the only image", len(entries))
	}
	if entries, _ := os.ReadDir(s.warmCacheDir()); len(entries) != 0 {
		t.Fatalf("unpacked warm states left: %v", entries)
	}
}

// TestSaveWarmKeepsTheFilesUnpacked: with Keep, the saved files become the
// state's unpacked copy (moved, read-only), so UnpackWarm finds them in
// place; they go with the image like an unpacked one.
func TestSaveWarmKeepsTheFilesUnpacked(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	dir := t.TempDir()
	img, err := s.Import(ctx, newDisk(t, dir, "one.raw", 64, 8, 200), ImportOptions{Tag: "img:1"})
	if err != nil {
		t.Fatal(err)
	}
	memBytes, diskBytes := bytes.Repeat([]byte{7, 1, 2, 3}, 3<<20), bytes.Repeat([]byte{7, 9}, 1<<20)
	mem, disk := filepath.Join(dir, "memory"), filepath.Join(dir, "disk")
	os.WriteFile(mem, memBytes, 0o600)
	os.WriteFile(disk, diskBytes, 0o600)
	st, err := s.SaveWarm(ctx, SaveWarmOptions{Image: img.Digest, Machine: map[string]int{"memory": 1}, MemoryPath: mem, DiskPath: disk, Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(s.warmCacheDir(), strings.TrimPrefix(st.Digest, "sha256:"))
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("not kept unpacked: %v", err)
	}
	if _, err := os.Stat(mem); !os.IsNotExist(err) {
		t.Errorf("the memory file is still where it was saved: %v", err)
	}
	u, err := s.UnpackWarm(ctx, st, func(p Progress) { t.Errorf("unpacked again: %+v", p) })
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string][]byte{u.Memory: memBytes, u.Disk: diskBytes} {
		got, err := os.ReadFile(f)
		fi, _ := os.Stat(f)
		if err != nil || !bytes.Equal(got, want) || fi.Mode().Perm() != 0o444 {
			t.Errorf("%s: %d bytes, mode %v, %v; want the saved %d bytes, read-only", f, len(got), fi.Mode(), err, len(want))
		}
	}
	if _, err := s.Remove(ctx, []string{"img:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kept); !os.IsNotExist(err) {
		t.Errorf("the kept files outlived their image: %v", err)
	}
}

// TestWarmConfigBounds: what a config says is checked before any byte is
// written from it.
func TestWarmConfigBounds(t *testing.T) {
	blob := "sha256:" + strings.Repeat("a", 64)
	ok := WarmConfig{ChunkSize: 4 << 20, Memory: WarmFile{Size: 8 << 20, Chunks: []Chunk{{Offset: 0, Length: 4 << 20, Blob: blob}, {Offset: 4 << 20, Length: 4 << 20, Blob: blob}}}}
	if err := ok.check(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*WarmConfig){
		"huge chunk size":   func(c *WarmConfig) { c.ChunkSize = 4 << 30 },
		"negative size":     func(c *WarmConfig) { c.Memory.Size = -1 },
		"huge size":         func(c *WarmConfig) { c.Disk.Size = 1 << 62 },
		"past the end":      func(c *WarmConfig) { c.Memory.Chunks[1].Offset = 6 << 20 },
		"overlapping":       func(c *WarmConfig) { c.Memory.Chunks[1].Offset = 2 << 20 },
		"negative offset":   func(c *WarmConfig) { c.Memory.Chunks[0].Offset = -4 << 20 },
		"longer than chunk": func(c *WarmConfig) { c.Memory.Chunks[0].Length = 5 << 20 },
		"bad blob digest":   func(c *WarmConfig) { c.Memory.Chunks[0].Blob = "sha256:../../etc" },
	} {
		c := ok
		c.Memory.Chunks = append([]Chunk{}, ok.Memory.Chunks...)
		edit(&c)
		if err := c.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPushPullWarmStates: a pushed image takes its warm states along, a
// pull brings them back verified, and pushing again moves nothing new.
func TestPushPullWarmStates(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	a, b, _, _ := pushPullStores(t)
	img, err := a.Resolve("img:1")
	if err != nil {
		t.Fatal(err)
	}
	st := saveTestWarm(t, a, img.Digest, map[string]string{"qemu": "7.2"}, 7)
	o := RemoteOptions{Keychain: anonymous}
	ref := reg.addr + "/team/warm:1"
	rep, err := a.Push(ctx, "img:1", ref, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.WarmStates != 1 {
		t.Fatalf("push: %+v", rep)
	}
	prep, err := b.Pull(ctx, ref, "", o)
	if err != nil {
		t.Fatal(err)
	}
	if prep.WarmStates != 1 {
		t.Fatalf("pull: %+v", prep)
	}
	states, err := b.WarmStates(img.Digest)
	if err != nil || len(states) != 1 || states[0].Digest != st.Digest {
		t.Fatalf("pulled states %v %v", states, err)
	}
	if _, err := b.Verify(ctx, "warm:1", nil); err != nil {
		t.Fatal(err)
	}
	// Again: nothing to move either way.
	if rep, err = a.Push(ctx, "img:1", ref, o); err != nil || rep.Pushed != 0 {
		t.Fatalf("second push %+v %v", rep, err)
	}
	if prep, err = b.Pull(ctx, ref, "", o); err != nil || prep.Fetched != 0 || prep.WarmStates != 1 {
		t.Fatalf("second pull %+v %v", prep, err)
	}
	// A newer state of the same machine replaces the old one in the tag.
	st2 := saveTestWarm(t, a, img.Digest, map[string]string{"qemu": "7.2"}, 8)
	if _, err := a.Push(ctx, "img:1", ref, o); err != nil {
		t.Fatal(err)
	}
	c := openStore(t)
	if _, err := c.Pull(ctx, ref, "", o); err != nil {
		t.Fatal(err)
	}
	if states, _ := c.WarmStates(img.Digest); len(states) != 1 || states[0].Digest != st2.Digest {
		t.Fatalf("after re-warming: %v", states)
	}
}
