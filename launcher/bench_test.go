package launcher

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/testdisk"
)

// BenchmarkLaunch measures the launch overhead (from the call until QEMU
// runs with its disk ready, the image already unpacked) for the fixture
// and for an image four times its size, and launch to SSH-ready.
func BenchmarkLaunch(b *testing.B) {
	if _, err := os.Stat(fixture); err != nil {
		b.Skip("no fixture: run make fixture")
	}
	if err := testdisk.Available(); err != nil {
		b.Skip(err)
	}
	ctx := context.Background()
	home := b.TempDir()
	st, err := images.Open(home, nil)
	if err != nil {
		b.Fatal(err)
	}
	small, err := st.Import(ctx, fixture, images.ImportOptions{Tag: "fixture:1"})
	if err != nil {
		b.Fatal(err)
	}
	d, _ := st.Inspect("fixture:1")
	// An image with four times the fixture's data (it need not boot).
	src := filepath.Join(b.TempDir(), "src")
	if err := testdisk.Fill(src, 99, int(4*d.DataSize/(256<<10)), 256<<10); err != nil {
		b.Fatal(err)
	}
	bigDisk := filepath.Join(b.TempDir(), "big.raw")
	if err := testdisk.Make(bigDisk, 4*d.VirtualSize, src); err != nil {
		b.Fatal(err)
	}
	big, err := st.Import(ctx, bigDisk, images.ImportOptions{Tag: "big:1"})
	if err != nil {
		b.Fatal(err)
	}
	bd, _ := st.Inspect("big:1")
	m := NewManager(Config{Home: home, Accel: "tcg"}, st, nil, Drivers())
	overhead := func(ref string) (first, again time.Duration) {
		for i, name := range []string{"o-first", "o-again"} {
			start := time.Now()
			if _, err := m.Launch(ctx, LaunchOptions{Image: ref, Name: name, Driver: "qemu", CPUs: 1, Memory: "512M", Disk: "1G", NoWait: true}); err != nil {
				b.Fatal(err)
			}
			if i == 0 {
				first = time.Since(start)
			} else {
				again = time.Since(start)
			}
		}
		m.Delete(ctx, nil, true)
		return
	}
	sf, sa := overhead("fixture:1")
	bf, ba := overhead("big:1")
	start := time.Now()
	res, err := m.Launch(ctx, LaunchOptions{Image: "fixture:1", Name: "ready", Driver: "qemu", CPUs: 2, Memory: "1G", Disk: "8G", Timeout: 10 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	ready := time.Since(start)
	m.Delete(ctx, nil, true)
	fmt.Printf("\nLaunch (qemu driver, TCG)\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "image\tdata\tfirst launch (unpacks)\tlaunch overhead\ttarget\t")
	fmt.Fprintf(tw, "fixture\t%s\t%.2fs\t%.2fs\t≤ 1 s\t\n", images.HumanBytes(d.DataSize), sf.Seconds(), sa.Seconds())
	fmt.Fprintf(tw, "4× larger\t%s\t%.2fs\t%.2fs\tnot growing (ratio %.2f)\t\n", images.HumanBytes(bd.DataSize), bf.Seconds(), ba.Seconds(), ba.Seconds()/sa.Seconds())
	tw.Flush()
	fmt.Printf("\nlaunch → SSH and cloud-init ready: %.1fs (ready reported %.1fs)\n", ready.Seconds(), res.Ready.Seconds())
	fmt.Println("launch → OpenClaw gateway ready against the from-scratch install: needs the OpenClaw image (issue 8)")
	_, _ = small, big
}
