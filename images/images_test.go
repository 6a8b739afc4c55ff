package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawimg/clawimg/internal/testdisk"
)

// newDisk makes a raw test disk of the given size (MiB) holding n
// generated files from seed.
func newDisk(t testing.TB, dir, name string, sizeMiB int64, seed uint64, n int) string {
	t.Helper()
	if err := testdisk.Available(); err != nil {
		t.Skip(err)
	}
	src := filepath.Join(dir, name+".src")
	if err := testdisk.Fill(src, seed, n, 64<<10); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := testdisk.Make(path, sizeMiB<<20, src); err != nil {
		t.Fatal(err)
	}
	return path
}

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "home"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allocated(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}

func sameFile(t testing.TB, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ", a, b)
	}
}

func TestRoundTripRawIsIdenticalAndSparse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	disk := newDisk(t, dir, "disk.raw", 256, 1, 300)
	s := openStore(t)
	img, err := s.Import(ctx, disk, ImportOptions{Tag: "test:1"})
	if err != nil {
		t.Fatal(err)
	}
	if img.VirtualSize != 256<<20 || img.Ref() != "test:1" {
		t.Fatalf("image %+v", img)
	}
	for _, ext := range []string{".raw", ".img"} {
		out := filepath.Join(dir, "out"+ext)
		if _, err := s.Export(ctx, "test:1", out, nil); err != nil {
			t.Fatal(err)
		}
		sameFile(t, disk, out)
		// Holes stay holes: the copy uses no more disk than the original.
		if a, b := allocated(t, out), allocated(t, disk); a > b {
			t.Fatalf("export uses %d bytes on disk, the original %d", a, b)
		}
	}
	if _, err := s.Verify(ctx, "test:1", nil); err != nil {
		t.Fatal(err)
	}
}

func TestQcow2ImportAndExport(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not found (run make deps)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	disk := newDisk(t, dir, "disk.raw", 128, 2, 100)
	s := openStore(t)
	qemuImg := func(args ...string) {
		if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %v: %v\n%s", args, err, out)
		}
	}
	plain, compressed, overlay := filepath.Join(dir, "plain.qcow2"), filepath.Join(dir, "comp.qcow2"), filepath.Join(dir, "overlay.qcow2")
	qemuImg("convert", "-f", "raw", "-O", "qcow2", disk, plain)
	qemuImg("convert", "-c", "-f", "raw", "-O", "qcow2", disk, compressed)
	qemuImg("create", "-f", "qcow2", "-F", "qcow2", "-b", plain, overlay)
	var digests []string
	for i, in := range []string{plain, compressed, overlay} {
		// The overlay is read through its chain as the builder's disk is
		// (TestImportRefusesDisksThatReferToOtherFiles: never a user's).
		img, err := s.Import(ctx, in, ImportOptions{Tag: "q:" + string(rune('a'+i)), Chain: TrustedChain})
		if err != nil {
			t.Fatalf("import %s: %v", in, err)
		}
		out := filepath.Join(dir, "out.raw")
		if _, err := s.Export(ctx, img.Ref(), out, nil); err != nil {
			t.Fatal(err)
		}
		sameFile(t, disk, out)
		d, _ := s.Inspect(img.Ref())
		digests = append(digests, d.Config)
	}
	// And back out as qcow2, which qemu-img reads as the same disk.
	out := filepath.Join(dir, "out.qcow2")
	if _, err := s.Export(ctx, "q:a", out, nil); err != nil {
		t.Fatal(err)
	}
	qemuImg("compare", "-f", "qcow2", "-F", "raw", out, disk)
}

func TestArchiveRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	disk := newDisk(t, dir, "disk.raw", 64, 3, 50)
	a, b := openStore(t), openStore(t)
	img, err := a.Import(ctx, disk, ImportOptions{Tag: "arch:v1"})
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "x.tar")
	if _, err := a.Export(ctx, "arch:v1", tarPath, nil); err != nil {
		t.Fatal(err)
	}
	got, err := b.Import(ctx, tarPath, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != img.Digest || got.Ref() != "arch:v1" {
		t.Fatalf("imported %+v, want %s as arch:v1", got, img.Digest)
	}
	out := filepath.Join(dir, "back.raw")
	if _, err := b.Export(ctx, "arch:v1", out, nil); err != nil {
		t.Fatal(err)
	}
	sameFile(t, disk, out)
	// -t renames on import.
	if got, err := b.Import(ctx, tarPath, ImportOptions{Tag: "other:x"}); err != nil || got.Ref() != "other:x" {
		t.Fatalf("retag: %v %v", got, err)
	}
}

func TestIdenticalChunksAreStoredOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	one := newDisk(t, dir, "one.raw", 128, 7, 200)
	// The second disk is the first with one file's content changed in
	// place, as an edit inside the guest would change it.
	b, err := os.ReadFile(one)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(dir, "one.raw.src", "d05", "f0005.txt"))
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, file[:4096])
	if at < 0 {
		t.Fatal("file content not found in the disk")
	}
	copy(b[at:], bytes.Repeat([]byte("changed "), 1024))
	two := filepath.Join(dir, "two.raw")
	if err := os.WriteFile(two, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	if _, err := s.Import(ctx, one, ImportOptions{Tag: "d:1"}); err != nil {
		t.Fatal(err)
	}
	before, blobsBefore := blobBytes(t, s), blobCount(t, s)
	var skipped, total int64
	img, err := s.Import(ctx, two, ImportOptions{Tag: "d:2", Progress: func(p Progress) { skipped, total = p.Skipped, p.Total }})
	if err != nil {
		t.Fatal(err)
	}
	added := blobBytes(t, s) - before
	// The edit touches one chunk (two if it straddles a boundary), plus
	// the new config and manifest.
	if n := blobCount(t, s) - blobsBefore; n > 4 {
		t.Fatalf("the second image added %d blobs", n)
	}
	if skipped < total-2*DefaultChunkSize {
		t.Fatalf("only %d of %d bytes were already stored", skipped, total)
	}
	t.Logf("second image: %d of %d bytes new in the store", added, img.Size)
}

func blobCount(t testing.TB, s *Store) int {
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func blobBytes(t testing.TB, s *Store) int64 {
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		fi, _ := e.Info()
		n += fi.Size()
	}
	return n
}

func TestCorruptChunkIsNamed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t)
	if _, err := s.Import(ctx, newDisk(t, dir, "a.raw", 64, 4, 40), ImportOptions{Tag: "good:1"}); err != nil {
		t.Fatal(err)
	}
	img, err := s.Import(ctx, newDisk(t, dir, "b.raw", 64, 5, 40), ImportOptions{Tag: "bad:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, cfg, err := s.manifest(img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	// Flip one byte of a chunk only bad:1 has.
	goodImg, _ := s.Resolve("good:1")
	_, goodCfg, _ := s.manifest(goodImg.Digest)
	shared := map[string]bool{}
	for _, c := range goodCfg.Chunks {
		shared[c.Blob] = true
	}
	victim := -1
	for i, c := range cfg.Chunks {
		if !shared[c.Blob] {
			victim = i
			break
		}
	}
	if victim < 0 {
		t.Fatal("no chunk unique to bad:1")
	}
	p := s.blobPath(cfg.Chunks[victim].Blob)
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = s.Verify(ctx, "bad:1", nil)
	var ce *ChunkError
	if !errors.As(err, &ce) || ce.Index != victim || ce.Image != "bad:1" {
		t.Fatalf("verify error %v, want chunk %d of bad:1", err, victim)
	}
	if !strings.Contains(err.Error(), cfg.Chunks[victim].Blob) {
		t.Fatalf("error does not name the blob: %v", err)
	}
	out := filepath.Join(dir, "out.raw")
	if _, err := s.Export(ctx, "bad:1", out, nil); !errors.As(err, &ce) {
		t.Fatalf("export error %v, want a chunk error", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed export left its output behind")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".out.raw*")); len(leftovers) > 0 {
		t.Fatalf("temp files left: %v", leftovers)
	}
	if _, err := s.Verify(ctx, "good:1", nil); err != nil {
		t.Fatalf("the other image suffers: %v", err)
	}
	if fresh, _ := os.ReadFile(p); !bytes.Equal(fresh, b) {
		t.Fatal("verify or export touched the bad blob")
	}
}

func TestBadInputs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, bytes.Repeat([]byte("hello\n"), 1000), 0o644)
	disk := newDisk(t, dir, "disk.raw", 64, 6, 20)
	truncated := filepath.Join(dir, "trunc.qcow2")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", disk, truncated).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	fi, _ := os.Stat(truncated)
	os.Truncate(truncated, fi.Size()/2)
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.raw"), "no such file or directory"},
		{"not a disk", text, "not a disk image"},
		{"directory", dir, "is a directory"},
		{"truncated qcow2", truncated, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Import(ctx, tt.path, ImportOptions{Tag: "x:1"})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line containing %q", err, tt.want)
			}
		})
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("bad imports left images: %v", list)
	}
	a, _ := s.Import(ctx, disk, ImportOptions{Tag: "a:1"})
	if _, err := s.Resolve("nosuch:1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown name: %v", err)
	}
	if got, err := s.Resolve(a.Digest[:19]); err != nil || got.Digest != a.Digest {
		t.Fatalf("prefix: %v %v", got, err)
	}
	if _, err := s.Resolve("sha256:0123"); err == nil {
		t.Fatal("a 4-digit prefix must be refused")
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	s := openStore(t)
	// Two manifests whose digests share 12 digits are astronomically rare,
	// so the index is written by hand.
	idx := &Index{SchemaVersion: 2, Manifests: []Descriptor{
		{Digest: "sha256:aaaaaaaaaaaa" + strings.Repeat("1", 52)},
		{Digest: "sha256:aaaaaaaaaaaa" + strings.Repeat("2", 52)},
	}}
	if err := s.saveIndex(idx); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"aaaaaaaaaaaa", "sha256:aaaaaaaaaaaa"} {
		_, err := s.Resolve(ref)
		if err == nil || !strings.Contains(err.Error(), "ambiguous") {
			t.Fatalf("%s: got %v", ref, err)
		}
	}
}

func TestNotEnoughSpaceIsDetectedBeforeWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t)
	disk := newDisk(t, dir, "disk.raw", 64, 8, 20)
	s.freeSpace = func(string) (uint64, error) { return 10 << 20, nil }
	_, err := s.Import(ctx, disk, ImportOptions{Tag: "x:1"})
	if err == nil || !strings.Contains(err.Error(), "not enough free disk space") {
		t.Fatalf("got %v", err)
	}
	if n := blobBytes(t, s); n != 0 {
		t.Fatalf("%d bytes written before the check", n)
	}
}

func TestTagRemovePruneAndHolds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t)
	img, err := s.Import(ctx, newDisk(t, dir, "a.raw", 64, 9, 30), ImportOptions{Tag: "a:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tag(ctx, "a:1", "b:2"); err != nil {
		t.Fatal(err)
	}
	// Re-importing another disk under a:1 leaves the old image untagged
	// only if no other tag names it: b:2 still does.
	if _, err := s.Import(ctx, newDisk(t, dir, "c.raw", 64, 10, 30), ImportOptions{Tag: "a:1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Resolve("b:2"); err != nil || got.Digest != img.Digest {
		t.Fatalf("b:2 = %v %v", got, err)
	}
	// A held image cannot be removed.
	base, _, err := s.Base(ctx, "b:2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Hold("vm-1", img.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, []string{"b:2"}); err == nil || !strings.Contains(err.Error(), "used by instance vm-1") {
		t.Fatalf("rmi of a held image: %v", err)
	}
	// The second Base is the same file and decompresses nothing.
	calls := 0
	base2, _, err := s.Base(ctx, "b:2", func(Progress) { calls++ })
	if err != nil || base2 != base || calls != 0 {
		t.Fatalf("second Base: %s %v, %d progress calls", base2, err, calls)
	}
	if fi, _ := os.Stat(base); fi.Mode().Perm()&0o222 != 0 {
		t.Fatalf("base is writable: %v", fi.Mode())
	}
	rep, err := s.Prune(ctx)
	if err != nil || rep.Bases != 0 {
		t.Fatalf("prune removed a held base: %+v %v", rep, err)
	}
	if err := s.Release("vm-1"); err != nil {
		t.Fatal(err)
	}
	removed, err := s.Remove(ctx, []string{"b:2"})
	if err != nil || len(removed) != 2 || removed[1].Deleted != img.Digest {
		t.Fatalf("rmi: %+v %v", removed, err)
	}
	if _, err := os.Stat(base); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the base of a deleted image is still there")
	}
	// Prune: untagged images go, with their chunks (c.raw was untagged
	// when d.raw took a:1, and d.raw when e.raw did).
	untag, _ := s.Import(ctx, newDisk(t, dir, "d.raw", 64, 11, 30), ImportOptions{Tag: "a:1"})
	if _, err := s.Import(ctx, newDisk(t, dir, "e.raw", 64, 12, 30), ImportOptions{Tag: "a:1"}); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Prune(ctx)
	if err != nil || len(rep.Images) != 2 || !slices.Contains(rep.Images, untag.Digest) || rep.Freed == 0 {
		t.Fatalf("prune: %+v %v", rep, err)
	}
	list, _ := s.List()
	if len(list) != 1 || list[0].Ref() != "a:1" {
		t.Fatalf("after prune: %+v", list)
	}
	if _, err := s.Verify(ctx, "a:1", nil); err != nil {
		t.Fatal(err)
	}
}

func TestIsRemote(t *testing.T) {
	for ref, want := range map[string]bool{
		"openclaw": false, "openclaw:1": false, "team/openclaw:1": false, "sha256:abcdefabcdef": false,
		"localhost:5000/x": true, "localhost/x:1": true, "ghcr.io/a/b": true, "127.0.0.1:5000/x@sha256:" + strings.Repeat("a", 64): true,
		"localhost": false, "ghcr.io": false,
	} {
		if got := IsRemote(ref); got != want {
			t.Errorf("IsRemote(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"openclaw", "openclaw:latest", false},
		{"openclaw:2026.9.6", "openclaw:2026.9.6", false},
		{"team/openclaw:v1", "team/openclaw:v1", false},
		{"sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("a", 64), false},
		{"abcdefabcdef", "abcdefabcdef:latest", false},
		{"localhost:5000/team/openclaw:1", "localhost:5000/team/openclaw:1", false},
		{"localhost/x", "localhost/x:latest", false},
		{"ghcr.io/acme/openclaw", "ghcr.io/acme/openclaw:latest", false},
		{"Registry.Example:443/a/b:c", "Registry.Example:443/a/b:c", false},
		{"team.x/y:1", "team.x/y:1", false},
		{"localhost:5000/Team/x", "", true},
		{"bad_host.io/x", "", true},
		{"host.io:port/x", "", true},
		{"-host.io/x", "", true},
		{"Upper:1", "", true},
		{"a:b:c", "", true},
		{"sha256:xyz", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		r, err := ParseRef(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && r.String() != tt.want) {
			t.Errorf("ParseRef(%q) = %v, %v", tt.in, r, err)
		}
	}
}

// TestImportRefusesDisksThatReferToOtherFiles: a qcow2 handed to import
// that names a backing file (a path, or a json: spec) or an external data
// file would copy files of the host into the image; it is refused, and
// nothing of it is stored.
func TestImportRefusesDisksThatReferToOtherFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	secret := filepath.Join(dir, "host-secret")
	if err := os.WriteFile(secret, bytes.Repeat([]byte("HOST-SECRET-0123456789 "), 1<<15), 0o600); err != nil {
		t.Fatal(err)
	}
	qemuImg := func(args ...string) {
		if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %v: %v\n%s", args, err, out)
		}
	}
	backed, jsonBacked, dataFile := filepath.Join(dir, "backed.qcow2"), filepath.Join(dir, "json.qcow2"), filepath.Join(dir, "datafile.qcow2")
	qemuImg("create", "-f", "qcow2", "-b", secret, "-F", "raw", backed, "1M")
	qemuImg("create", "-f", "qcow2", "-u", "-b", `json:{"driver":"raw","file":{"driver":"file","filename":"`+secret+`"}}`, "-F", "raw", jsonBacked, "1M")
	qemuImg("create", "-f", "qcow2", "-o", "data_file="+secret+",data_file_raw=on", dataFile, "1M")
	s := openStore(t)
	for _, in := range []string{backed, jsonBacked, dataFile} {
		_, err := s.Import(ctx, in, ImportOptions{Tag: "evil:1"})
		if !errors.Is(err, ErrNotSelfContained) {
			t.Errorf("import %s: %v, want it refused as not self-contained", filepath.Base(in), err)
		}
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("images stored: %v", list)
	}
	entries, _ := os.ReadDir(s.blobDir())
	for _, e := range entries {
		if b, _ := os.ReadFile(filepath.Join(s.blobDir(), e.Name())); bytes.Contains(b, []byte("HOST-SECRET")) {
			t.Fatalf("a blob holds the host file")
		}
	}
}

// TestImportRefusesWhatIsNotAFile: a device reports no size (a block
// device imported as an empty image) and opening a FIFO blocks for ever;
// both are refused at once, before anything is opened.
func TestImportRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "disk.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	for _, path := range []string{fifo, "/dev/zero"} {
		done := make(chan error, 1)
		go func() {
			_, err := s.Import(context.Background(), path, ImportOptions{Tag: "dev:1"})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "is not a regular file") {
				t.Errorf("import %s: %v", path, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("import %s hangs", path)
		}
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("imported %v", list)
	}
}

// TestFullDiskCanBeCleanedUp: on a file system with no byte left, rmi and
// prune still work (they must rewrite index.json before they may free
// anything): the store keeps a reserve for that, and makes it again after.
func TestFullDiskCanBeCleanedUp(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts a small tmpfs: needs root")
	}
	ctx := context.Background()
	dir := t.TempDir()
	disk := newDisk(t, dir, "d.raw", 32, 60, 150)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=128m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	s, err := Open(filepath.Join(mnt, "home"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.reservePath()); err != nil {
		t.Fatalf("no reserve: %v", err)
	}
	if _, err := s.Import(ctx, disk, ImportOptions{Tag: "a:1"}); err != nil {
		t.Fatal(err)
	}
	// Fill what is left.
	f, _ := os.Create(filepath.Join(mnt, "filler"))
	buf := bytes.Repeat([]byte{1}, 1<<16)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	small := bytes.Repeat([]byte{2}, 4096)
	for i := 0; ; i++ { // the last partial blocks too
		if os.WriteFile(filepath.Join(mnt, "crumb"+string(rune('a'+i%26))+strings.Repeat("x", i/26)), small, 0o644) != nil {
			break
		}
	}
	if _, err := s.Remove(ctx, []string{"a:1"}); err != nil {
		t.Fatalf("rmi on a full disk: %v", err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("still listed: %v", list)
	}
	if n := blobCount(t, s); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
	if _, err := os.Stat(s.reservePath()); err != nil {
		t.Errorf("the reserve was not made again once there was room: %v", err)
	}
}

// TestPruneDuringQcow2Import: prune run again and again while qcow2 disks
// are imported never takes the import's conversion file away (it lives in
// tmp/, which prune empties); every import succeeds and verifies.
func TestPruneDuringQcow2Import(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not found (run make deps)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	disk := newDisk(t, dir, "disk.raw", 64, 7, 100)
	qcow := filepath.Join(dir, "disk.qcow2")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", disk, qcow).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	s := openStore(t)
	done := make(chan struct{})
	pruned := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				pruned <- n
				return
			default:
			}
			if _, err := s.Prune(ctx); err != nil {
				t.Errorf("prune: %v", err)
			}
			n++
		}
	}()
	for i := range 3 {
		ref := fmt.Sprintf("q:%d", i)
		if _, err := s.Import(ctx, qcow, ImportOptions{Tag: ref}); err != nil {
			t.Errorf("import %d beside prune: %v", i, err)
			continue
		}
		if _, err := s.Verify(ctx, ref, nil); err != nil {
			t.Errorf("verify %s: %v", ref, err)
		}
	}
	close(done)
	t.Logf("%d prunes ran beside 3 imports", <-pruned)
}
