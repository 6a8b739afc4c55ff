package images

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
	"time"

	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/clawimg/clawimg/internal/testdisk"
)

// benchDisk is the realistic disk of the store benchmarks: the builder's
// Debian fixture when it exists (as raw), else a generated disk of the
// same shape, MBR + ext4 holding ~680 MiB of real files from the host,
// 3.5 GiB virtual. Both are cached under build/bench.
func benchDisk(b *testing.B) (string, string) {
	b.Helper()
	dir := filepath.Join("..", "build", "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	fixture := filepath.Join("..", "build", "fixture", "base.qcow2")
	if _, err := os.Stat(fixture); err == nil {
		raw := filepath.Join(dir, "fixture.raw")
		if _, err := os.Stat(raw); err != nil {
			run(b, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", fixture, raw)
		}
		return raw, "the Debian fixture (build/fixture/base.qcow2)"
	}
	raw := filepath.Join(dir, "generated.raw")
	if _, err := os.Stat(raw); err != nil {
		if err := testdisk.Available(); err != nil {
			b.Skip(err)
		}
		src := filepath.Join(b.TempDir(), "src")
		run(b, "cp", "-a", "/usr/lib/x86_64-linux-gnu", src)
		if err := testdisk.Make(raw+".tmp", 3584<<20, src); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(raw+".tmp", raw); err != nil {
			b.Fatal(err)
		}
	}
	return raw, "a generated disk (MBR + ext4 with /usr/lib/x86_64-linux-gnu, 3.5 GiB virtual)"
}

func run(b *testing.B, name string, args ...string) {
	b.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// best runs f three times and returns the fastest time: the page cache is
// warm for every tool alike.
func best(b *testing.B, f func()) time.Duration {
	b.Helper()
	var min time.Duration
	for i := 0; i < 3; i++ {
		start := time.Now()
		f()
		if d := time.Since(start); i == 0 || d < min {
			min = d
		}
	}
	return min
}

func warm(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	io.Copy(io.Discard, f)
}

func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkStoreVsReferenceTools prints import and export against the
// zstd CLI and qemu-img on the same disk in the same run.
func BenchmarkStoreVsReferenceTools(b *testing.B) {
	for _, tool := range []string{"zstd", "qemu-img"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s not found (run make deps)", tool)
		}
	}
	disk, what := benchDisk(b)
	warm(b, disk)
	ctx := context.Background()
	work := b.TempDir()
	home := filepath.Join(work, "home")
	var img *Image
	tImport := best(b, func() {
		os.RemoveAll(home)
		s, err := Open(home, nil)
		if err != nil {
			b.Fatal(err)
		}
		if img, err = s.Import(ctx, disk, ImportOptions{Tag: "bench:1"}); err != nil {
			b.Fatal(err)
		}
	})
	zst := filepath.Join(work, "disk.raw.zst")
	tZstd := best(b, func() { run(b, "zstd", "-3", "-T0", "-q", "-f", disk, "-o", zst) })
	qcow := filepath.Join(work, "disk.qcow2")
	tQemu := best(b, func() { run(b, "qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", disk, qcow) })

	s, _ := Open(home, nil)
	tAgain := best(b, func() {
		if _, err := s.Import(ctx, disk, ImportOptions{Tag: "bench:again"}); err != nil {
			b.Fatal(err)
		}
	})
	out := filepath.Join(work, "out.raw")
	tExport := best(b, func() {
		os.Remove(out)
		if _, err := s.Export(ctx, "bench:1", out, nil); err != nil {
			b.Fatal(err)
		}
	})
	if !sameContent(b, disk, out) {
		b.Fatal("export differs from the disk")
	}
	out2 := filepath.Join(work, "out2.raw")
	tUnzstd := best(b, func() {
		os.Remove(out2)
		run(b, "zstd", "-d", "--sparse", "-q", "-f", zst, "-o", out2)
	})

	zsize, qsize := fileSize(b, zst), fileSize(b, qcow)
	fmt.Printf("\nImage store on %s: %s allocated of %s virtual\n\n", what, HumanBytes(allocatedOf(b, disk)), HumanBytes(img.VirtualSize))
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\ttime\tsize\ttime ratio\tsize ratio\ttarget\t")
	fmt.Fprintf(tw, "clawimg import\t%.2fs\t%s\t%.2f\t%.3f\ttime ≤ 0.2, size ≤ 1.0\t\n", tImport.Seconds(), HumanBytes(img.Size), ratio(tImport, tZstd), float64(img.Size)/float64(zsize))
	fmt.Fprintf(tw, "clawimg import, chunks already stored\t%.2fs\t\t%.2f\t\t\t\n", tAgain.Seconds(), ratio(tAgain, tZstd))
	fmt.Fprintf(tw, "zstd -3 -T0\t%.2fs\t%s\t1.00\t1.000\treference\t\n", tZstd.Seconds(), HumanBytes(zsize))
	fmt.Fprintf(tw, "qemu-img convert -c -O qcow2\t%.2fs\t%s\t%.2f\t%.3f\tfor reference\t\n", tQemu.Seconds(), HumanBytes(qsize), ratio(tQemu, tZstd), float64(qsize)/float64(zsize))
	fmt.Fprintf(tw, "clawimg export (sparse raw)\t%.2fs\t\t%.2f\t\ttime ≤ 0.5\t\n", tExport.Seconds(), ratio(tExport, tUnzstd))
	fmt.Fprintf(tw, "zstd -d --sparse\t%.2fs\t\t1.00\t\treference\t\n", tUnzstd.Seconds())
	tw.Flush()
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

func allocatedOf(b *testing.B, path string) int64 {
	d, err := openRaw(path)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	return d.allocated()
}

func sameContent(b *testing.B, x, y string) bool {
	fx, _ := os.Open(x)
	fy, _ := os.Open(y)
	defer fx.Close()
	defer fy.Close()
	bx, by := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		nx, ex := io.ReadFull(fx, bx)
		ny, _ := io.ReadFull(fy, by)
		if nx != ny || !bytes.Equal(bx[:nx], by[:ny]) {
			return false
		}
		if ex != nil {
			return true
		}
	}
}

// BenchmarkChunkSizeAndLevel is the measurement behind DefaultChunkSize and
// DefaultLevel: import time, stored size, and how much a second image that
// differs by one in-place file edit adds to the store.
func BenchmarkChunkSizeAndLevel(b *testing.B) {
	disk, what := benchDisk(b)
	warm(b, disk)
	ctx := context.Background()
	work := b.TempDir()
	edited := filepath.Join(work, "edited.raw")
	makeEdited(b, disk, edited)
	fmt.Printf("\nChunk size and zstd level on %s (one-file edit for dedup)\n\n", what)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "chunk\tlevel\timport\tstored\tchunks\tedit adds\tedit adds %\t")
	levels := map[zstd.EncoderLevel]string{zstd.SpeedFastest: "fastest", zstd.SpeedDefault: "default", zstd.SpeedBetterCompression: "better"}
	for _, c := range []struct {
		chunk int64
		level zstd.EncoderLevel
	}{
		{1 << 20, zstd.SpeedDefault}, {2 << 20, zstd.SpeedDefault}, {4 << 20, zstd.SpeedDefault},
		{8 << 20, zstd.SpeedDefault}, {16 << 20, zstd.SpeedDefault},
		{4 << 20, zstd.SpeedFastest}, {4 << 20, zstd.SpeedBetterCompression},
	} {
		home := filepath.Join(work, "home")
		os.RemoveAll(home)
		s, err := Open(home, nil)
		if err != nil {
			b.Fatal(err)
		}
		opts := ImportOptions{Tag: "a:1", ChunkSize: c.chunk, Level: c.level}
		start := time.Now()
		img, err := s.Import(ctx, disk, opts)
		if err != nil {
			b.Fatal(err)
		}
		t := time.Since(start)
		before := dirBytes(b, s.blobDir())
		opts.Tag = "b:1"
		if _, err := s.Import(ctx, edited, opts); err != nil {
			b.Fatal(err)
		}
		added := dirBytes(b, s.blobDir()) - before
		d, _ := s.Inspect("a:1")
		fmt.Fprintf(tw, "%s\t%s\t%.2fs\t%s\t%d\t%s\t%.3f%%\t\n", HumanBytes(c.chunk), levels[c.level], t.Seconds(),
			HumanBytes(img.Size), d.Chunks, HumanBytes(added), 100*float64(added)/float64(img.Size))
	}
	tw.Flush()
}

// makeEdited copies disk to path with 64 KiB rewritten in the middle of the
// data, as editing one file inside the guest would.
func makeEdited(b *testing.B, disk, path string) {
	run(b, "cp", "--sparse=always", disk, path)
	d, err := openRaw(path)
	if err != nil {
		b.Fatal(err)
	}
	mid := d.allocated() / 2
	var at int64
	for _, e := range d.extents {
		if mid < e.len {
			at = e.off + mid
			break
		}
		mid -= e.len
	}
	d.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte("edited! "), 8192), at&^4095); err != nil {
		b.Fatal(err)
	}
}

func dirBytes(b *testing.B, dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}
