// Package multipass is the launcher's multipass driver: instances run by
// Canonical's Multipass, driven through its CLI. They always boot cold
// (Multipass cannot restore a saved VM) and hold their API key inside
// the VM (Multipass's NAT is not clawimg's to restrict).
package multipass

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/command"
	"github.com/clawimg/clawimg/internal/guest"
	"github.com/clawimg/clawimg/internal/qemuimg"
	"github.com/clawimg/clawimg/launcher"
)

// Driver runs instances with Canonical's Multipass, driven through
// its CLI as multipass 1.16 and 1.17 behave (JSON parsed, never text
// compared; testdata/fakemultipass stands in for it in tests).
//
// Launch versus clone: Multipass ≥ 1.15 can clone a stopped instance, which
// would skip the per-launch SHA-256 of the image. It is not used, because a
// clone copies the template's cloud-init seed and its disk: every clone would
// get the template's user-data (so no per-instance API key or host name) and
// its /etc/machine-id (a clone is not a new identity), and both are what an
// instance must not share. Each launch is `multipass launch file://...` with
// the instance's own user-data on stdin; the image is prepared once per
// digest as qcow2 v3 so Multipass does not convert it.
type Driver struct {
	bin      string
	imageDir string
	log      *slog.Logger
}

var _ launcher.Driver = (*Driver)(nil)

// New makes the multipass driver (a launcher.Factory).
func New(cfg launcher.Config) (launcher.Driver, error) {
	bin := cfg.MultipassBin
	if bin == "" {
		bin = "multipass"
	}
	dir := cfg.ImageDir
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		// The snap-confined daemon reads $HOME but not /tmp or hidden
		// directories, so not under ~/.local/share/clawimg.
		dir = filepath.Join(home, "clawimg-images")
	}
	return &Driver{bin: bin, imageDir: dir, log: cfg.Log}, nil
}

func (d *Driver) Name() string { return "multipass" }

// Caps: Multipass owns the network (no broker), and logs in as ubuntu.
func (d *Driver) Caps() launcher.Caps { return launcher.Caps{LoginUser: "ubuntu"} }

// run runs the multipass CLI; stdin carries user-data, never argv.
func (d *Driver) run(ctx context.Context, stdin io.Reader, args ...string) (string, string, int, error) {
	cmd := command.New(ctx, d.log, d.bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode(), nil
	}
	if err != nil {
		return "", "", -1, fmt.Errorf("run %s: %w", d.bin, err)
	}
	return out.String(), "", 0, nil
}

// failure turns Multipass's "<cmd> failed: ..." text into one error line.
func failure(stderr string, code int) error {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(stderr), "The following errors occurred:", "")), " ")
	if msg == "" {
		msg = fmt.Sprintf("multipass exited with status %d", code)
	}
	return fmt.Errorf("multipass: %s", msg)
}

// PruneCopies removes the copies made for images keep no longer wants.
// A copy being made (.tmp) is left to its launch.
func (d *Driver) PruneCopies(ctx context.Context, keep func(digest string) bool) (int, int64, error) {
	entries, err := os.ReadDir(d.imageDir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	n, freed := 0, int64(0)
	for _, e := range entries {
		prefix, ok := strings.CutSuffix(e.Name(), ".img")
		if !ok || len(prefix) != 16 || strings.Trim(prefix, "0123456789abcdef") != "" || keep("sha256:"+prefix) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if err := os.Remove(filepath.Join(d.imageDir, e.Name())); err != nil {
			return n, freed, err
		}
		n++
		freed += fi.Size()
	}
	return n, freed, nil
}

// image returns the qcow2 v3 copy of a base that Multipass is given,
// made once per image digest.
func (d *Driver) image(ctx context.Context, base, digest string, bytes images.ProgressFunc) (string, error) {
	if err := os.MkdirAll(d.imageDir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(d.imageDir, strings.TrimPrefix(digest, "sha256:")[:16]+".img")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	tmp := p + ".tmp"
	fi, err := os.Stat(base)
	if err != nil {
		return "", err
	}
	report := func(done, total int64) {
		if bytes != nil {
			bytes(images.Progress{Phase: "convert for multipass", Done: done, Total: total})
		}
	}
	if err := qemuimg.Convert(ctx, d.log, fi.Size(), report, "-f", "raw", "-O", "qcow2", "-o", "compat=1.1", base, tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("prepare image for multipass: %w", err)
	}
	return p, os.Rename(tmp, p)
}

func (d *Driver) Launch(ctx context.Context, s *launcher.Spec) error {
	r := &s.Record
	img, err := d.image(ctx, s.Base, r.Digest, s.Bytes)
	if err != nil {
		return err
	}
	args := []string{"launch", "file://" + img, "--name", r.Name,
		"--cpus", strconv.Itoa(max(r.CPUs, 1)), "--memory", fmt.Sprintf("%dM", r.MemoryMiB),
		"--disk", fmt.Sprintf("%dM", r.DiskBytes>>20), "--cloud-init", "-", "--timeout", "600"}
	_, stderr, code, err := d.run(ctx, bytes.NewReader(s.UserData), args...)
	if err != nil {
		return err
	}
	if code != 0 {
		if code == 5 {
			return fmt.Errorf("multipass: timed out waiting for the instance to start")
		}
		return failure(stderr, code)
	}
	if info, err := d.info(ctx, r.Name); err == nil && len(info.IPv4) > 0 {
		r.IPv4 = info.IPv4[0]
	}
	return nil
}

type mpInfo struct {
	State string   `json:"state"`
	IPv4  []string `json:"ipv4"`
}

func (d *Driver) info(ctx context.Context, name string) (*mpInfo, error) {
	out, stderr, code, err := d.run(ctx, nil, "info", name, "--format", "json")
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, failure(stderr, code)
	}
	var doc struct {
		Info map[string]mpInfo `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("read multipass info: %w", err)
	}
	i, ok := doc.Info[name]
	if !ok {
		return nil, fmt.Errorf("multipass info has no %s", name)
	}
	return &i, nil
}

func (d *Driver) State(ctx context.Context, r *launcher.Record) (string, error) {
	i, err := d.info(ctx, r.Name)
	if err != nil {
		return launcher.StateUnknown, err
	}
	switch i.State {
	case "Running":
		return launcher.StateRunning, nil
	case "Stopped", "Suspended":
		return launcher.StateStopped, nil
	case "Starting", "Restarting":
		return launcher.StateStarting, nil
	}
	return launcher.StateUnknown, nil
}

// exit4 stands in for a remote exit status of 4, which Multipass ≤ 1.16
// takes for its own "retry" code and re-runs the command forever (#3771).
const exit4 = 104

// execWrapper runs "$@" and maps status 4 to exit4.
const execWrapper = `"$@"; r=$?; [ $r -eq 4 ] && r=104; exit $r`

func (d *Driver) Exec(ctx context.Context, r *launcher.Record, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	args := append([]string{"exec", r.Name, "--", "sh", "-c", execWrapper, "sh"}, argv...)
	cmd := command.New(ctx, d.log, d.bin, args...)
	var errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, io.MultiWriter(stderr, &errb)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if strings.HasPrefix(errb.String(), "exec failed:") {
			return -1, failure(errb.String(), code)
		}
		if code == exit4 {
			code = 4
		}
		return code, nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

func (d *Driver) Shell(ctx context.Context, r *launcher.Record, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := command.New(ctx, d.log, d.bin, "shell", r.Name)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	return cmd.Run()
}

func (d *Driver) simple(ctx context.Context, args ...string) error {
	_, stderr, code, err := d.run(ctx, nil, args...)
	if err != nil {
		return err
	}
	if code != 0 {
		return failure(stderr, code)
	}
	return nil
}

func (d *Driver) Stop(ctx context.Context, r *launcher.Record) error {
	return d.simple(ctx, "stop", r.Name)
}

func (d *Driver) Start(ctx context.Context, r *launcher.Record) error {
	return d.simple(ctx, "start", r.Name)
}

func (d *Driver) Delete(ctx context.Context, r *launcher.Record) error {
	_, stderr, code, err := d.run(ctx, nil, "delete", "--purge", r.Name)
	if err != nil {
		return err
	}
	if code != 0 && !strings.Contains(stderr, "does not exist") {
		return failure(stderr, code)
	}
	return nil
}

func (d *Driver) SSH(r *launcher.Record) string { return "multipass shell " + r.Name }

// Copy is multipass transfer (NAME:PATH names the instance's side).
func (d *Driver) Copy(ctx context.Context, r *launcher.Record, cp launcher.Copy) error {
	args := []string{"transfer"}
	if cp.Recursive {
		args = append(args, "--recursive")
	}
	guestPath := r.Name + ":" + cp.Guest
	if fi, err := os.Stat(cp.Host); cp.ToGuest && err == nil && fi.IsDir() && !cp.Recursive {
		return fmt.Errorf("copy %s: %w", cp.Host, guest.ErrIsDirectory)
	}
	if cp.ToGuest {
		args = append(args, cp.Host, guestPath)
	} else {
		args = append(args, guestPath, cp.Host)
	}
	return d.simple(ctx, args...)
}

// Address is the instance's own address on Multipass's network; the user
// the instance was made with (ubuntu) has clawimg's key.
func (d *Driver) Address(ctx context.Context, r *launcher.Record) (string, int, error) {
	i, err := d.info(ctx, r.Name)
	if err != nil {
		return "", 0, err
	}
	if i.State != "Running" || len(i.IPv4) == 0 {
		return "", 0, fmt.Errorf("%s has no address: it is %s", r.Name, strings.ToLower(i.State))
	}
	return i.IPv4[0], 22, nil
}
