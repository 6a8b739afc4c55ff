package qemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/clawimg/clawimg/internal/command"
	"github.com/clawimg/clawimg/internal/guest"
	qemuvm "github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/launcher"
)

// warmCPU is the CPU model of warm VMs and of the instances restored from
// them: a named model (x86-64-v2 level), never the host's CPU, so that a
// state saved on one machine restores on any other x86_64 host with the
// same QEMU build. Under TCG, QEMU's own "max" would be portable as well and
// cheaper for the guest (a named Intel model makes its kernel turn on
// page-table isolation: system calls ten times dearer under emulation, and
// a warm VM's gateway then rarely starts in time), but an OpenClaw gateway
// restored on "max" did not answer again within minutes (seen twice, not
// understood yet), so Nehalem stays for every accelerator.
const warmCPU = "Nehalem"

// WarmMachine is the machine this host's warm VMs of that size run on.
func (q *Driver) WarmMachine(ctx context.Context, cpus, memMiB int, disk int64) (launcher.WarmMachine, error) {
	accel, err := qemuvm.Resolve(ctx, binary, q.accel)
	if err != nil {
		return launcher.WarmMachine{}, err
	}
	version, err := qemuvm.Version(ctx, binary)
	if err != nil {
		return launcher.WarmMachine{}, err
	}
	mt, err := qemuvm.DefaultMachine(ctx, binary)
	if err != nil {
		return launcher.WarmMachine{}, err
	}
	return launcher.WarmMachine{Machine: qemuvm.Machine{
		QEMUVersion: version, Binary: binary, MachineType: mt, CPUModel: warmCPU, Accel: accel,
		CPUs: max(cpus, 1), MemoryMiB: memMiB, Devices: qemuvm.DeviceLayout,
	}, DiskBytes: disk}, nil
}

// BootWarm starts a warm step's throwaway VM: an overlay on the image's
// base, the spec's seed, the warm machine. It is not detached: it dies
// with clawimg, so a killed warm leaves no VM behind.
func (q *Driver) BootWarm(ctx context.Context, s *launcher.Spec, machine launcher.WarmMachine) (launcher.WarmVM, error) {
	r := &s.Record
	disk := r.Path(launcher.DiskFile)
	if err := createOverlay(ctx, q.log, disk, s.Base, "raw", machine.DiskBytes); err != nil {
		return nil, err
	}
	seed, err := writeSeed(r, s.UserData)
	if err != nil {
		return nil, err
	}
	defer os.Remove(seed)
	if r.SSHPort, err = qemuvm.FreePort(); err != nil {
		return nil, err
	}
	r.Accel = machine.Accel
	cfg, err := warmConfig(r, machine, disk, seed)
	if err != nil {
		return nil, err
	}
	hostnetFor(&cfg, r, q.helper)
	cfg.Log = q.log
	vm, err := qemuvm.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &warmVM{vm: vm, disk: disk, log: q.log}, nil
}

// warmConfig is the QEMU configuration of a warm VM and of every instance
// restored from its state: they must be the same machine.
// A restore's flash devices are sized as the warm VM's: their contents
// come with the saved state.
func warmConfig(r *launcher.Record, machine launcher.WarmMachine, disk, seed string) (qemuvm.Config, error) {
	cfg := qemuvm.Config{
		Binary: machine.Binary, Accel: machine.Accel, CPUModel: machine.CPUModel, MachineType: machine.MachineType,
		CPUs: machine.CPUs, MemoryMiB: machine.MemoryMiB, Disk: disk, Seed: seed, SSHPort: r.SSHPort,
		Dir: r.Dir, UUID: r.UUID, GuestAgent: true, VMGenID: true,
	}
	var err error
	cfg.EFI, err = efi(r, machine.Firmware)
	return cfg, err
}

// Agent is the guest agent of a running instance or warm VM: the channel
// to the guest that needs no network (virtio-serial).
func (q *Driver) Agent(ctx context.Context, r *launcher.Record) (launcher.GuestAgent, error) {
	a, err := qemuvm.DialAgent(ctx, files(r).QGASocket())
	if err != nil {
		return nil, err
	}
	return a, nil
}

// warmVM is a warm step's running QEMU.
type warmVM struct {
	vm   *qemuvm.VM
	disk string
	log  *slog.Logger
}

func (w *warmVM) Kill() { w.vm.Kill() }

// Save saves the running VM's device state and memory into memory through
// QMP migrate, then ends QEMU, whose disk is flushed and consistent, and
// points the disk delta at backing.
func (w *warmVM) Save(ctx context.Context, memory, backing string) (string, error) {
	mon, err := qemuvm.DialQMP(ctx, w.vm.QMPSocket())
	if err != nil {
		return "", err
	}
	defer mon.Close()
	if err := mon.Save(ctx, "cat > "+guest.Quote(memory)); err != nil {
		return "", err
	}
	_ = mon.Execute(ctx, "quit", nil, nil)
	if !w.vm.Wait(ctx, 30*time.Second) {
		return "", errors.New("save the VM: QEMU did not quit")
	}
	if err := rebase(ctx, w.log, w.disk, backing, "raw"); err != nil {
		return "", err
	}
	return w.disk, nil
}

// rebase points a qcow2 delta at another backing file, without touching
// its data.
func rebase(ctx context.Context, log *slog.Logger, delta, backing, format string) error {
	out, err := command.New(ctx, log, "qemu-img", "rebase", "-u", "-F", format, "-b", backing, delta).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img rebase: %s", strings.TrimSpace(string(out)))
	}
	return nil
}
