package qemu

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/testdisk"
	"github.com/clawimg/clawimg/launcher"
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
	m := launcher.NewManager(launcher.Config{Home: home, Accel: "tcg", Helper: testHelper()}, st, nil, map[string]launcher.Factory{"qemu": New})
	overhead := func(ref string) (first, again time.Duration) {
		for i, name := range []string{"o-first", "o-again"} {
			start := time.Now()
			if _, err := m.Launch(ctx, launcher.LaunchOptions{Image: ref, Name: name, Driver: "qemu", CPUs: 1, MemoryMiB: 512, DiskBytes: 1 << 30, NoWait: true}); err != nil {
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
	res, err := m.Launch(ctx, launcher.LaunchOptions{Image: "fixture:1", Name: "ready", Driver: "qemu", CPUs: 2, MemoryMiB: 1024, DiskBytes: 8 << 30, Timeout: 10 * time.Minute})
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

// BenchmarkWarmLaunch measures warm launches of the fixture and of a
// bootable image with four times its data: launch → ready (split into
// restore and identity), against a cold launch of the same image, and the
// stored state's size against the guest's memory.
func BenchmarkWarmLaunch(b *testing.B) {
	if _, err := os.Stat(fixture); err != nil {
		b.Skip("no fixture: run make fixture")
	}
	ctx := context.Background()
	home := b.TempDir()
	st, err := images.Open(home, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Import(ctx, fixture, images.ImportOptions{Tag: "fixture:1"}); err != nil {
		b.Fatal(err)
	}
	d, _ := st.Inspect("fixture:1")
	big, err := biggerBootable(b, 4*d.DataSize)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Import(ctx, big, images.ImportOptions{Tag: "big:1"}); err != nil {
		b.Fatal(err)
	}
	os.Remove(big)
	bd, _ := st.Inspect("big:1")
	m := launcher.NewManager(launcher.Config{Home: home, Accel: "tcg", Helper: testHelper()}, st, nil, map[string]launcher.Factory{"qemu": New})
	type row struct {
		name, data              string
		state                   int64
		warm, restore, id, cold time.Duration
		warmTook                time.Duration
	}
	var rows []row
	for _, img := range []struct{ ref, data string }{{"fixture:1", images.HumanBytes(d.DataSize)}, {"big:1", images.HumanBytes(bd.DataSize)}} {
		o := warmOpts()
		o.Image = img.ref
		w, err := m.Warm(ctx, o)
		if err != nil {
			b.Fatal(err)
		}
		r := row{name: img.ref, data: img.data, state: w.State.Size, warmTook: w.Took}
		lo := warmLaunch("bench-warm")
		lo.Image, lo.DiskBytes = img.ref, w.Machine.DiskBytes
		for i := range 2 { // the first one also unpacks the state
			l, err := m.Launch(ctx, lo)
			if err != nil {
				b.Fatal(err)
			}
			if l.Start != launcher.StartWarm {
				b.Fatalf("%s: %s", img.ref, l.ColdReason)
			}
			if i == 1 {
				r.warm, r.restore, r.id = l.Ready, l.Restored, l.Renewed
			}
			m.Delete(ctx, nil, true)
		}
		lo.Cold = true
		l, err := m.Launch(ctx, lo)
		if err != nil {
			b.Fatal(err)
		}
		r.cold = l.Ready
		m.Delete(ctx, nil, true)
		rows = append(rows, r)
	}
	fmt.Printf("\nWarm launch (qemu driver, TCG, 1 vCPU, 1 GiB): launch → SSH and cloud-init ready\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "image\tdata\twarm (once)\tstate stored\tof memory\twarm launch\trestore\tidentity\tcold launch\twarm/cold\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.0fs\t%s\t%.3f\t%.1fs\t%.1fs\t%.1fs\t%.1fs\t%.3f\t\n", r.name, r.data, r.warmTook.Seconds(),
			images.HumanBytes(r.state), float64(r.state)/float64(1<<30), r.warm.Seconds(), r.restore.Seconds(), r.id.Seconds(),
			r.cold.Seconds(), r.warm.Seconds()/r.cold.Seconds())
	}
	tw.Flush()
	fmt.Printf("\nrestore overhead, 4× the data against the fixture: %.2f (target: not growing); state ≤ 0.25 of memory\n",
		rows[1].restore.Seconds()/rows[0].restore.Seconds())
}

// biggerBootable writes the fixture as a raw disk four times its virtual
// size with extra random data past its root partition (which the guest
// never reads): it boots like the fixture and stores `data` more bytes.
func biggerBootable(b *testing.B, data int64) (string, error) {
	raw := filepath.Join(b.TempDir(), "big.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", fixture, raw).CombinedOutput(); err != nil {
		return "", fmt.Errorf("qemu-img convert: %s", out)
	}
	f, err := os.OpenFile(raw, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, _ := f.Stat()
	if err := f.Truncate(4 * fi.Size()); err != nil {
		return "", err
	}
	buf := make([]byte, 4<<20)
	for off := 2 * fi.Size(); off < 2*fi.Size()+data; off += int64(len(buf)) {
		rand.Read(buf)
		if _, err := f.WriteAt(buf, off); err != nil {
			return "", err
		}
	}
	return raw, nil
}
