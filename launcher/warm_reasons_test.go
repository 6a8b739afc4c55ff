package launcher

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/qemu"
)

// TestFindWarmReasons checks that a state saved on another machine is not
// restored, with the difference named (no VM needed).
func TestFindWarmReasons(t *testing.T) {
	home := t.TempDir()
	st, err := images.Open(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(home, "disk.raw")
	mbr := make([]byte, 1<<20)
	mbr[510], mbr[511] = 0x55, 0xaa // a boot sector: raw disk
	if err := os.WriteFile(raw, mbr, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := st.Import(context.Background(), raw, images.ImportOptions{Tag: "tiny:1"})
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Config{Home: home}, st, nil, nil)
	wr := fixedWarmer{host: qemu.Machine{QEMUVersion: "7.2.19", Binary: "qemu-system-x86_64", MachineType: "pc-i440fx-7.2",
		CPUModel: "Nehalem", Accel: "tcg", Devices: qemu.DeviceLayout}}
	rec := &Record{Image: "tiny:1", Digest: img.Digest, CPUs: 2, MemoryMiB: 4096, DiskBytes: 20 << 30}
	if s, _, why := m.findWarm(context.Background(), wr, rec); s != nil || !strings.Contains(why, "no warm state of tiny:1") {
		t.Errorf("no state: %v %q", s, why)
	}
	want, err := wr.WarmMachine(context.Background(), 2, 4096, 20<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		change func(*WarmMachine)
		reason string
	}{
		{func(w *WarmMachine) { w.QEMUVersion = "6.2.0" }, "saved with QEMU 6.2.0 (this launch: " + want.QEMUVersion + ")"},
		{func(w *WarmMachine) { w.MemoryMiB = 2048 }, "memory 2048 MiB (this launch: 4096 MiB)"},
		{func(w *WarmMachine) { w.CPUs = 4 }, "cpus 4 (this launch: 2)"},
		{func(w *WarmMachine) { w.Accel = "kvm" }, "accelerator kvm (this launch: tcg)"},
		{func(w *WarmMachine) { w.DiskBytes = 8 << 30 }, "disk 8.0 GiB (this launch: 20.0 GiB)"},
		{func(w *WarmMachine) { w.Firmware = "efi" }, "firmware efi (this launch: BIOS)"},
	} {
		machine := want
		tc.change(&machine)
		if _, err := st.SaveWarm(context.Background(), images.SaveWarmOptions{Image: img.Digest, Machine: machine,
			MemoryPath: raw, DiskPath: raw, Replaces: func(json.RawMessage) bool { return true }}); err != nil {
			t.Fatal(err)
		}
		if s, _, why := m.findWarm(context.Background(), wr, rec); s != nil || !strings.Contains(why, tc.reason) {
			t.Errorf("state %+v: restored %v, reason %q; want %q", machine, s != nil, why, tc.reason)
		}
	}
	if _, err := st.SaveWarm(context.Background(), images.SaveWarmOptions{Image: img.Digest, Machine: want,
		MemoryPath: raw, DiskPath: raw, Replaces: func(json.RawMessage) bool { return true }}); err != nil {
		t.Fatal(err)
	}
	if s, got, why := m.findWarm(context.Background(), wr, rec); s == nil || got != want {
		t.Errorf("the fitting state was not chosen: %q", why)
	}
}
