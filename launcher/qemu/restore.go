package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/command"
	qemuvm "github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/internal/wait"
	"github.com/clawimg/clawimg/launcher"
)

// Restore starts an instance from a warm state: a new overlay on the
// state's disk delta (itself on the image's base), QEMU with the saved
// machine restoring the saved memory. It returns once the guest runs, still
// with the warm VM's identity, which the launcher renews through Agent; a
// guest that does not come back running is killed.
func (q *Driver) Restore(ctx context.Context, s *launcher.Spec, machine launcher.WarmMachine, state *images.UnpackedWarm) error {
	r := &s.Record
	if err := checkDelta(ctx, q.log, state.Disk); err != nil {
		return err
	}
	disk := r.Path(launcher.DiskFile)
	if err := createOverlay(ctx, q.log, disk, state.Disk, "qcow2", machine.DiskBytes); err != nil {
		return err
	}
	r.Accel = machine.Accel
	var err error
	if r.SSHPort, err = qemuvm.FreePort(); err != nil {
		return err
	}
	r.IPv4 = "10.0.2.15"
	r.UUID = uuid.NewString()
	r.CPUs, r.MemoryMiB, r.DiskBytes = machine.CPUs, machine.MemoryMiB, machine.DiskBytes
	// The cdrom slot the warm VM had holds this instance's own seed: should
	// the guest ever reboot, cloud-init sees this instance, not the warm one.
	seed, err := writeSeed(r, s.UserData)
	if err != nil {
		return err
	}
	defer os.Remove(seed)
	mem, err := os.Open(state.Memory)
	if err != nil {
		return err
	}
	cfg, err := warmConfig(r, machine, disk, seed)
	if err != nil {
		mem.Close()
		return err
	}
	hostnetFor(&cfg, r, q.helper)
	cfg.Detached, cfg.Incoming, cfg.Log = true, mem, q.log
	_, err = qemuvm.Start(ctx, cfg) // detached: it outlives this process
	mem.Close()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := waitRunning(ctx, cfg); err != nil {
		_ = q.kill(r)
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// RestoreTimeout bounds loading a saved VM.
const RestoreTimeout = 3 * time.Minute

// waitRunning waits until a restoring VM runs; QEMU exits when the saved
// state does not load.
func waitRunning(ctx context.Context, cfg qemuvm.Config) error {
	ctx, cancel := context.WithTimeout(ctx, RestoreTimeout)
	defer cancel()
	for {
		status := "unknown"
		if mon, err := qemuvm.DialQMP(ctx, cfg.QMPSocket()); err == nil {
			status, _ = mon.Status(ctx)
			mon.Close()
		}
		if status == "running" {
			return nil
		}
		if pid(&launcher.Record{Dir: cfg.Dir}) == 0 {
			msg, _ := os.ReadFile(cfg.StderrLog())
			lines := strings.Split(strings.TrimSpace(string(msg)), "\n")
			return fmt.Errorf("the saved VM did not load: %s", lines[len(lines)-1])
		}
		if status != "inmigrate" && status != "unknown" && status != "prelaunch" {
			return fmt.Errorf("the restored VM is %s, not running", status)
		}
		if err := wait.Sleep(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("the saved VM did not load in %s", RestoreTimeout)
		}
	}
}

// checkDelta refuses a disk delta that is not a plain qcow2 on the image's
// base: an external data file or another backing file would let a crafted
// state read files of the host into the guest.
func checkDelta(ctx context.Context, log *slog.Logger, path string) error {
	out, err := command.New(ctx, log, "qemu-img", "info", "--output=json", "-U", path).Output()
	if err != nil {
		return fmt.Errorf("warm state disk: qemu-img info: %w", err)
	}
	var info struct {
		Format          string `json:"format"`
		BackingFilename string `json:"backing-filename"`
		BackingFormat   string `json:"backing-filename-format"`
		FormatSpecific  struct {
			Data struct {
				DataFile string `json:"data-file"`
			} `json:"data"`
		} `json:"format-specific"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return fmt.Errorf("warm state disk: %w", err)
	}
	base := filepath.Base(info.BackingFilename)
	switch {
	case info.Format != "qcow2":
		return fmt.Errorf("warm state disk: format %q, want qcow2", info.Format)
	case info.FormatSpecific.Data.DataFile != "":
		return errors.New("warm state disk: has an external data file")
	case info.BackingFormat != "raw" || !strings.HasPrefix(info.BackingFilename, "../../bases/") ||
		info.BackingFilename != "../../bases/"+base || !strings.HasSuffix(base, ".raw"):
		return fmt.Errorf("warm state disk: backing file %q is not an image of the store", info.BackingFilename)
	}
	return nil
}
