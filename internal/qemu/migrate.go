package qemu

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Machine is what a saved VM can be restored on: the same QEMU build,
// machine type, CPU model, accelerator, memory and vCPUs (and clawimg's
// device layout, which Config.Args fixes).
type Machine struct {
	QEMUVersion string `json:"qemu_version"`
	Binary      string `json:"binary"`
	MachineType string `json:"machine_type"`
	CPUModel    string `json:"cpu_model"`
	Accel       string `json:"accelerator"`
	CPUs        int    `json:"cpus"`
	MemoryMiB   int    `json:"memory_mib"`
	// Devices names the device layout (see DeviceLayout).
	Devices string `json:"devices"`
	// Firmware is FirmwareEFI for a machine that boots through UEFI flash
	// devices (the image's), empty for the BIOS.
	Firmware string `json:"firmware,omitempty"`
}

// DeviceLayout names the devices Config.Args gives a VM with GuestAgent and
// VMGenID: a restore needs exactly the devices the saved VM had. Change it
// whenever Args changes what such a VM has.
const DeviceLayout = "clawimg-1: virtio-blk, ide-cd, virtio-net(user), virtio-rng, virtio-serial(qga), vmgenid"

// Version is the first line of `BINARY --version` without its prefix, e.g.
// "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)": the build, not only the
// release, since distributions patch device state formats.
func Version(ctx context.Context, binary string) (string, error) {
	out, err := exec.CommandContext(ctx, binary, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("read the version of %s: %w", binary, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(strings.TrimPrefix(line, "QEMU emulator version ")), nil
}

// DefaultMachine is the versioned machine type the binary's default ("pc"
// on x86_64, "virt" on arm64) stands for, e.g. pc-i440fx-7.2: a saved VM
// must be restored on exactly that one.
func DefaultMachine(ctx context.Context, binary string) (string, error) {
	out, err := exec.CommandContext(ctx, binary, "-machine", "help").Output()
	if err != nil {
		return "", fmt.Errorf("%s -machine help: %w", binary, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && strings.HasSuffix(l, "(default)") {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("%s -machine help: no default machine type", binary)
}

// Save pauses the VM and writes its device state and memory through the
// command (a shell command reading the stream on stdin), and waits until
// QEMU reports it complete. The VM stays paused; its disk is flushed.
func (m *Monitor) Save(ctx context.Context, command string) error {
	// Zero pages are sent as flags only; nothing else is worth tuning on a
	// local stream.
	if err := m.Execute(ctx, "migrate", map[string]any{"uri": "exec:" + command}, nil); err != nil {
		return err
	}
	for {
		var st struct {
			Status    string                       `json:"status"`
			ErrorDesc string                       `json:"error-desc"`
			RAM       *struct{ Transferred int64 } `json:"ram"`
		}
		if err := m.Execute(ctx, "query-migrate", nil, &st); err != nil {
			return err
		}
		switch st.Status {
		case "completed":
			return nil
		case "failed", "cancelled":
			return fmt.Errorf("%w: save the VM: %s %s", errQMP, st.Status, st.ErrorDesc)
		}
		select {
		case <-ctx.Done():
			_ = m.Execute(context.Background(), "migrate_cancel", nil, nil)
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Status is the VM's run state (running, paused, inmigrate, postmigrate ...).
func (m *Monitor) Status(ctx context.Context) (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	err := m.Execute(ctx, "query-status", nil, &st)
	return st.Status, err
}
