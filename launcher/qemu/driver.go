// Package qemu is the launcher's qemu driver: clawimg runs QEMU itself,
// one detached process per instance, and keeps running VMs as warm states
// that instances are restored from (launcher.Warmer).
package qemu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/clawimg/clawimg/internal/cidata"
	"github.com/clawimg/clawimg/internal/command"
	"github.com/clawimg/clawimg/internal/guest"
	qemuvm "github.com/clawimg/clawimg/internal/qemu"
	"github.com/clawimg/clawimg/internal/wait"
	"github.com/clawimg/clawimg/launcher"
)

// binary is the QEMU that runs instances (they are x86_64 today).
const binary = "qemu-system-x86_64"

// Driver runs each instance as a detached QEMU process: a qcow2
// overlay on the store's read-only unpacked base (nothing is copied, so a
// launch costs the same for any image size), a NoCloud seed, SSH forwarded
// from a free loopback port.
type Driver struct {
	accel  string
	helper []string // serves the broker and the proxy (Config.Helper)
	log    *slog.Logger
}

var (
	_ launcher.Driver = (*Driver)(nil)
	_ launcher.Warmer = (*Driver)(nil)
)

// New makes the qemu driver (a launcher.Factory).
func New(cfg launcher.Config) (launcher.Driver, error) {
	return &Driver{accel: cfg.Accel, helper: cfg.Helper, log: cfg.Log}, nil
}

func (q *Driver) Name() string { return "qemu" }

// Caps: QEMU's user network with restrict=on and guestfwd helpers is
// clawimg's own, so the key stays on the host.
func (q *Driver) Caps() launcher.Caps { return launcher.Caps{Broker: true} }

func (q *Driver) config(r *launcher.Record, seed string) (qemuvm.Config, error) {
	cfg := qemuvm.Config{
		Binary: binary, Accel: r.Accel, CPUs: r.CPUs, MemoryMiB: r.MemoryMiB,
		Disk: r.Path(launcher.DiskFile), Seed: seed, SSHPort: r.SSHPort, Dir: r.Dir, Detached: true,
		UUID: r.UUID, Log: q.log,
	}
	hostnetFor(&cfg, r, q.helper)
	var err error
	cfg.EFI, err = efi(r, r.Firmware)
	return cfg, err
}

// efi is the UEFI firmware of an instance whose image boots through UEFI
// (nil for the BIOS): the host's, with the instance's own variable store,
// made from the firmware's template at its first start and kept.
func efi(r *launcher.Record, firmware string) (*qemuvm.EFI, error) {
	if firmware != qemuvm.FirmwareEFI {
		return nil, nil
	}
	code, template, err := qemuvm.FindUEFI(binary)
	if err != nil {
		return nil, fmt.Errorf("%s boots through UEFI: %w", r.Image, err)
	}
	vars := r.Path(launcher.EFIVarsFile)
	if _, err := os.Stat(vars); os.IsNotExist(err) {
		if err := qemuvm.CopyVars(template, vars); err != nil {
			return nil, err
		}
	}
	return &qemuvm.EFI{Code: code, Vars: vars}, nil
}

func (q *Driver) Launch(ctx context.Context, s *launcher.Spec) error {
	r := &s.Record
	if err := createOverlay(ctx, q.log, r.Path(launcher.DiskFile), s.Base, "raw", r.DiskBytes); err != nil {
		return err
	}
	var err error
	if r.Accel, err = qemuvm.Resolve(ctx, binary, q.accel); err != nil {
		return err
	}
	if r.SSHPort, err = qemuvm.FreePort(); err != nil {
		return err
	}
	r.IPv4 = "10.0.2.15" // QEMU user networking's guest address; reach it through SSHPort
	r.UUID = uuid.NewString()
	seed, err := writeSeed(r, s.UserData)
	if err != nil {
		return err
	}
	// QEMU holds the seed open from its start; the file, which may hold the
	// API key, is removed as soon as QEMU has it.
	defer os.Remove(seed)
	cfg, err := q.config(r, seed)
	if err != nil {
		return err
	}
	if _, err := qemuvm.Start(ctx, cfg); err != nil {
		return err
	}
	return nil
}

// createOverlay makes disk a qcow2 overlay of size bytes on backing (of
// the given format): an instance's disk on the image's base, or on a warm
// state's delta.
func createOverlay(ctx context.Context, log *slog.Logger, disk, backing, format string, size int64) error {
	out, err := command.New(ctx, log, "qemu-img", "create", "-q", "-f", "qcow2", "-F", format, "-b", backing,
		disk, strconv.FormatInt(size, 10)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img create: %s", strings.TrimSpace(string(out)))
	}
	return nil
}

// writeSeed writes an instance's NoCloud seed (user-data and a fresh
// instance-id) into its directory, readable by the owner only.
func writeSeed(r *launcher.Record, userData []byte) (string, error) {
	seed := r.Path(launcher.SeedFile)
	meta := fmt.Sprintf("instance-id: %s-%d\nlocal-hostname: %s\n", r.Name, time.Now().UnixNano(), r.Name)
	err := cidata.WriteISO(seed, "cidata", []cidata.File{
		{Name: "user-data", Data: userData}, {Name: "meta-data", Data: []byte(meta)},
	}, time.Now())
	return seed, err
}

// pid returns the instance's QEMU process, or 0 when it is not running.
func pid(r *launcher.Record) int {
	b, err := os.ReadFile(files(r).PIDFile())
	if err != nil {
		return 0
	}
	p, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || p <= 0 {
		return 0
	}
	cmdline, err := processCommand(p)
	if err != nil || !bytes.Contains(cmdline, []byte(r.Dir)) {
		return 0 // gone, or the pid was reused by something else
	}
	return p
}

func (q *Driver) State(ctx context.Context, r *launcher.Record) (string, error) {
	if pid(r) == 0 {
		return launcher.StateStopped, nil
	}
	if guest.Banner(ctx, r.SSHPort) {
		return launcher.StateRunning, nil
	}
	return launcher.StateStarting, nil
}

func (q *Driver) client(ctx context.Context, r *launcher.Record) (*guest.Client, error) {
	if pid(r) == 0 {
		return nil, launcher.ErrStopped
	}
	return launcher.DialInstance(ctx, r, "127.0.0.1", r.SSHPort)
}

func (q *Driver) Exec(ctx context.Context, r *launcher.Record, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c, err := q.client(ctx, r)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	return c.Run(ctx, shellJoin(argv), stdin, stdout, stderr)
}

// Shell hands the terminal to the system's ssh client, which does
// interactive sessions (window size, signals) best.
func (q *Driver) Shell(ctx context.Context, r *launcher.Record, stdin io.Reader, stdout, stderr io.Writer) error {
	if pid(r) == 0 {
		return launcher.ErrStopped
	}
	args := append(sshArgs(r), "-t")
	cmd := command.New(ctx, q.log, "ssh", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	return cmd.Run()
}

func sshArgs(r *launcher.Record) []string {
	return []string{"-i", r.KeyPath(), "-p", strconv.Itoa(r.SSHPort),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		r.User + "@127.0.0.1"}
}

func (q *Driver) SSH(r *launcher.Record) string { return "ssh " + strings.Join(sshArgs(r), " ") }

// Copy goes over SFTP on the instance's SSH connection.
func (q *Driver) Copy(ctx context.Context, r *launcher.Record, cp launcher.Copy) error {
	c, err := q.client(ctx, r)
	if err != nil {
		return err
	}
	defer c.Close()
	sc, err := c.SFTP()
	if err != nil {
		return fmt.Errorf("sftp to %s: %w", r.Name, err)
	}
	defer sc.Close()
	if cp.ToGuest {
		_, err = guest.Upload(sc, cp.Host, cp.Guest, cp.Recursive)
	} else {
		_, err = guest.Download(sc, cp.Guest, cp.Host, cp.Recursive)
	}
	return err
}

// Address is QEMU's loopback port forwarded to the guest's sshd.
func (q *Driver) Address(ctx context.Context, r *launcher.Record) (string, int, error) {
	if pid(r) == 0 {
		return "", 0, launcher.ErrStopped
	}
	return "127.0.0.1", r.SSHPort, nil
}

// StopTimeout bounds a clean shutdown before QEMU is killed.
const StopTimeout = 2 * time.Minute

func (q *Driver) Stop(ctx context.Context, r *launcher.Record) error {
	p := pid(r)
	if p == 0 {
		return nil
	}
	if err := qemuvm.QMP(ctx, files(r).QMPSocket(), "system_powerdown"); err != nil {
		return q.kill(r)
	}
	deadline := time.Now().Add(StopTimeout)
	for time.Now().Before(deadline) {
		if pid(r) == 0 {
			return nil
		}
		if wait.Sleep(ctx, 250*time.Millisecond) != nil {
			break
		}
	}
	return q.kill(r)
}

func (q *Driver) kill(r *launcher.Record) error {
	p := pid(r)
	if p == 0 {
		return nil
	}
	if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
		return err
	}
	for range 100 {
		if pid(r) == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("qemu (pid %d) did not exit", p)
}

func (q *Driver) Start(ctx context.Context, r *launcher.Record) error {
	if pid(r) != 0 {
		return nil
	}
	var err error
	if r.SSHPort, err = qemuvm.FreePort(); err != nil {
		return err
	}
	cfg, err := q.config(r, "")
	if err != nil {
		return err
	}
	_, err = qemuvm.Start(ctx, cfg)
	return err
}

func (q *Driver) Delete(ctx context.Context, r *launcher.Record) error { return q.kill(r) }

// files names what QEMU writes in an instance's directory.
func files(r *launcher.Record) qemuvm.Config { return qemuvm.Config{Dir: r.Dir} }

// shellJoin quotes argv for the remote shell, one argument each.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = guest.Quote(a)
	}
	return strings.Join(q, " ")
}

// Console is the end of an instance's serial console, for errors.
func (q *Driver) Console(r *launcher.Record) string {
	tail := qemuvm.ConsoleTail(files(r).ConsoleLog(), 15)
	// What QEMU itself said (why it exited, say) comes last.
	if b, err := os.ReadFile(files(r).StderrLog()); err == nil && len(bytes.TrimSpace(b)) > 0 {
		b = bytes.TrimSpace(b)
		tail += "\nqemu: " + string(b[max(0, len(b)-2000):])
	}
	return tail
}
