package images

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BenchmarkPushPull pushes and pulls the realistic disk through a local
// registry, against the same disk as one zstd blob, and measures what a
// one-file change moves.
func BenchmarkPushPull(b *testing.B) {
	disk, what := benchDisk(b)
	ctx := context.Background()
	reg := startRegistry(b, "")
	work := b.TempDir()
	a, err := Open(filepath.Join(work, "a"), nil)
	if err != nil {
		b.Fatal(err)
	}
	img, err := a.Import(ctx, disk, ImportOptions{Tag: "bench:1"})
	if err != nil {
		b.Fatal(err)
	}
	o := RemoteOptions{Keychain: anonymous}
	start := time.Now()
	if _, err := a.Push(ctx, "bench:1", reg.addr+"/bench/disk:1", o); err != nil {
		b.Fatal(err)
	}
	tPush := time.Since(start)
	c, _ := Open(filepath.Join(work, "c"), nil)
	start = time.Now()
	if _, err := c.Pull(ctx, reg.addr+"/bench/disk:1", "", o); err != nil {
		b.Fatal(err)
	}
	tPull := time.Since(start)

	// The reference: the whole disk as a single zstd blob, pushed and pulled.
	zst := filepath.Join(work, "disk.zst")
	run(b, "zstd", "-3", "-T0", "-q", "-f", disk, "-o", zst)
	data, err := os.ReadFile(zst)
	if err != nil {
		b.Fatal(err)
	}
	repo, _ := name.NewRepository(reg.addr + "/bench/single")
	layer := static.NewLayer(data, types.MediaType("application/zstd"))
	start = time.Now()
	if err := remote.WriteLayer(repo, layer); err != nil {
		b.Fatal(err)
	}
	tSinglePush := time.Since(start)
	h, _ := layer.Digest()
	start = time.Now()
	l, err := remote.Layer(repo.Digest(h.String()))
	if err != nil {
		b.Fatal(err)
	}
	rc, _ := l.Compressed()
	io.Copy(io.Discard, rc)
	rc.Close()
	tSinglePull := time.Since(start)

	// One in-place file edit.
	edited := filepath.Join(work, "edited.raw")
	makeEdited(b, disk, edited)
	img2, err := a.Import(ctx, edited, ImportOptions{Tag: "bench:2"})
	if err != nil {
		b.Fatal(err)
	}
	prep, err := a.Push(ctx, "bench:2", reg.addr+"/bench/disk:2", o)
	if err != nil {
		b.Fatal(err)
	}
	lrep, err := c.Pull(ctx, reg.addr+"/bench/disk:2", "", o)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\nSharing through a local registry, %s (%s stored)\n\n", what, HumanBytes(img.Size))
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\ttime / bytes\tratio\ttarget\t")
	fmt.Fprintf(tw, "push (chunks)\t%.2fs\t%.2f\tvs one zstd blob\t\n", tPush.Seconds(), tPush.Seconds()/tSinglePush.Seconds())
	fmt.Fprintf(tw, "push one zstd blob\t%.2fs (%s)\t1.00\treference\t\n", tSinglePush.Seconds(), HumanBytes(int64(len(data))))
	fmt.Fprintf(tw, "pull (chunks, verified)\t%.2fs\t%.2f\tvs one zstd blob\t\n", tPull.Seconds(), tPull.Seconds()/tSinglePull.Seconds())
	fmt.Fprintf(tw, "pull one zstd blob\t%.2fs\t1.00\treference\t\n", tSinglePull.Seconds())
	fmt.Fprintf(tw, "one-file change: uploaded\t%s (%d of %d chunks)\t%.4f\t≤ 0.1 of the image\t\n", HumanBytes(prep.PushedBytes), prep.Pushed, prep.Blobs, float64(prep.PushedBytes)/float64(img2.Size))
	fmt.Fprintf(tw, "one-file change: downloaded\t%s (%d of %d chunks)\t%.4f\t≤ 0.1 of the image\t\n", HumanBytes(lrep.FetchedBytes), lrep.Fetched, lrep.Blobs, float64(lrep.FetchedBytes)/float64(img2.Size))
	tw.Flush()
}
