// Package qemu starts and stops QEMU virtual machines for the builder and
// the qemu launcher driver: accelerator detection, the command line, QMP.
package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// Accelerators in the order auto tries them.
const (
	KVM = "kvm"
	HVF = "hvf"
	TCG = "tcg"
)

// ProbeTimeout bounds the test boot of an accelerator. A working KVM runs
// the probe in about 0.1 s; /dev/kvm can exist and still be unusable: in
// the nested VMs where clawimg is tested, KVM with -cpu host aborts at once,
// and with the default CPU it needs 2.7 s to get through the firmware and
// then hangs in a Linux guest. The timeout catches the hangs.
const ProbeTimeout = 2 * time.Second

// probeMBR is a boot sector that writes to the isa-debug-exit port: QEMU
// exits with status 3 as soon as the guest runs code.
var probeMBR = func() []byte {
	b := make([]byte, 512)
	copy(b, []byte{0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfe}) // mov al,1; out 0xf4,al; hlt; jmp $
	b[510], b[511] = 0x55, 0xaa
	return b
}()

// Resolve turns "auto" (or "") into the first accelerator that really runs
// a guest here: kvm, then hvf on macOS, then tcg. Any other value is checked
// to be known and returned as is.
func Resolve(ctx context.Context, binary, want string) (string, error) {
	switch want {
	case KVM, HVF, TCG:
		return want, nil
	case "", "auto":
	default:
		return "", fmt.Errorf("unknown accelerator %q: use auto, kvm, hvf or tcg", want)
	}
	var candidates []string
	if runtime.GOOS == "linux" {
		if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
			f.Close()
			candidates = append(candidates, KVM)
		}
	}
	if runtime.GOOS == "darwin" {
		candidates = append(candidates, HVF)
	}
	for _, a := range candidates {
		if Probe(ctx, binary, a) == nil {
			return a, nil
		}
	}
	return TCG, nil
}

// Probe boots a one-instruction guest with accel and reports whether it ran.
func Probe(ctx context.Context, binary, accel string) error {
	dir, err := os.MkdirTemp("", "clawimg-probe-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	disk := filepath.Join(dir, "probe.img")
	if err := os.WriteFile(disk, probeMBR, 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	// The same CPU model a VM gets: with -cpu host, nested KVM here fails
	// at once (it cannot set an MSR) instead of hanging later.
	cmd := exec.CommandContext(ctx, binary, "-accel", accel, "-cpu", "host", "-nodefaults", "-display", "none",
		"-m", "64", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-drive", "file="+disk+",format=raw,if=ide")
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s did not run a guest within %v", accel, ProbeTimeout)
	}
	return fmt.Errorf("%s: %v", accel, err)
}
