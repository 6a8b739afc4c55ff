package launcher

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/clawimg/clawimg/internal/qemu"
)

// qemuDriver runs each instance as a detached QEMU process: a qcow2
// overlay on the store's read-only unpacked base (nothing is copied, so a
// launch costs the same for any image size), a NoCloud seed, SSH forwarded
// from a free loopback port.
type qemuDriver struct {
	accel  string
	helper []string // serves the broker and the proxy (Config.Helper)
	log    *slog.Logger
}

var _ Driver = (*qemuDriver)(nil)

func newQEMU(cfg Config) (Driver, error) {
	return &qemuDriver{accel: cfg.Accel, helper: cfg.Helper, log: cfg.Log}, nil
}

func (q *qemuDriver) Name() string { return "qemu" }

// Caps: QEMU's user network with restrict=on and guestfwd helpers is
// clawimg's own, so the key stays on the host.
func (q *qemuDriver) Caps() Caps { return Caps{Broker: true} }

func (q *qemuDriver) config(r *Record, seed string) qemu.Config {
	cfg := qemu.Config{
		Binary: "qemu-system-x86_64", Accel: r.Accel, CPUs: r.CPUs, MemoryMiB: r.MemoryMiB,
		Disk: r.path(diskFile), Seed: seed, SSHPort: r.SSHPort, Dir: r.Dir, Detached: true,
		UUID: r.UUID, Log: q.log,
	}
	hostnetFor(&cfg, r, q.helper)
	return cfg
}

func (q *qemuDriver) Launch(ctx context.Context, s *Spec) error {
	r := &s.Record
	if err := createOverlay(ctx, q.log, r.path(diskFile), s.Base, "raw", r.DiskBytes); err != nil {
		return err
	}
	var err error
	if r.Accel, err = qemu.Resolve(ctx, "qemu-system-x86_64", q.accel); err != nil {
		return err
	}
	if r.SSHPort, err = qemu.FreePort(); err != nil {
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
	if _, err := qemu.Start(ctx, q.config(r, seed)); err != nil {
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
func writeSeed(r *Record, userData []byte) (string, error) {
	seed := r.path(seedFile)
	meta := fmt.Sprintf("instance-id: %s-%d\nlocal-hostname: %s\n", r.Name, time.Now().UnixNano(), r.Name)
	err := cidata.WriteISO(seed, "cidata", []cidata.File{
		{Name: "user-data", Data: userData}, {Name: "meta-data", Data: []byte(meta)},
	}, time.Now())
	return seed, err
}

// pid returns the instance's QEMU process, or 0 when it is not running.
func pid(r *Record) int {
	b, err := os.ReadFile(r.qemuFiles().PIDFile())
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

func (q *qemuDriver) State(ctx context.Context, r *Record) (string, error) {
	if pid(r) == 0 {
		return StateStopped, nil
	}
	if guest.Banner(ctx, r.SSHPort) {
		return StateRunning, nil
	}
	return StateStarting, nil
}

func (q *qemuDriver) client(ctx context.Context, r *Record) (*guest.Client, error) {
	if pid(r) == 0 {
		return nil, errStopped
	}
	return dialInstance(ctx, r, "127.0.0.1", r.SSHPort)
}

func (q *qemuDriver) Exec(ctx context.Context, r *Record, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c, err := q.client(ctx, r)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	return c.Run(ctx, shellJoin(argv), stdin, stdout, stderr)
}

// Shell hands the terminal to the system's ssh client, which does
// interactive sessions (window size, signals) best.
func (q *qemuDriver) Shell(ctx context.Context, r *Record, stdin io.Reader, stdout, stderr io.Writer) error {
	if pid(r) == 0 {
		return errStopped
	}
	args := append(sshArgs(r), "-t")
	cmd := command.New(ctx, q.log, "ssh", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	return cmd.Run()
}

func sshArgs(r *Record) []string {
	return []string{"-i", r.KeyPath(), "-p", strconv.Itoa(r.SSHPort),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		r.User + "@127.0.0.1"}
}

func (q *qemuDriver) SSH(r *Record) string { return "ssh " + strings.Join(sshArgs(r), " ") }

// Copy goes over SFTP on the instance's SSH connection.
func (q *qemuDriver) Copy(ctx context.Context, r *Record, cp Copy) error {
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
func (q *qemuDriver) Address(ctx context.Context, r *Record) (string, int, error) {
	if pid(r) == 0 {
		return "", 0, errStopped
	}
	return "127.0.0.1", r.SSHPort, nil
}

var errStopped = errors.New("the instance is not running")

// StopTimeout bounds a clean shutdown before QEMU is killed.
const StopTimeout = 2 * time.Minute

func (q *qemuDriver) Stop(ctx context.Context, r *Record) error {
	p := pid(r)
	if p == 0 {
		return nil
	}
	if err := qemu.QMP(ctx, r.qemuFiles().QMPSocket(), "system_powerdown"); err != nil {
		return q.kill(r)
	}
	deadline := time.Now().Add(StopTimeout)
	for time.Now().Before(deadline) {
		if pid(r) == 0 {
			return nil
		}
		if sleep(ctx, 250*time.Millisecond) != nil {
			break
		}
	}
	return q.kill(r)
}

func (q *qemuDriver) kill(r *Record) error {
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

func (q *qemuDriver) Start(ctx context.Context, r *Record) error {
	if pid(r) != 0 {
		return nil
	}
	var err error
	if r.SSHPort, err = qemu.FreePort(); err != nil {
		return err
	}
	_, err = qemu.Start(ctx, q.config(r, ""))
	return err
}

func (q *qemuDriver) Delete(ctx context.Context, r *Record) error { return q.kill(r) }

// shellJoin quotes argv for the remote shell, one argument each.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = guest.Quote(a)
	}
	return strings.Join(q, " ")
}

// consoleTail is the end of an instance's serial console, for errors.
func consoleTail(r *Record) string {
	tail := qemu.ConsoleTail(r.qemuFiles().ConsoleLog(), 15)
	// What QEMU itself said (why it exited, say) comes last.
	if b, err := os.ReadFile(r.qemuFiles().StderrLog()); err == nil && len(bytes.TrimSpace(b)) > 0 {
		b = bytes.TrimSpace(b)
		tail += "\nqemu: " + string(b[max(0, len(b)-2000):])
	}
	return tail
}
