package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrNoSwtpm says that swtpm, the TPM emulator QEMU's emulated TPM talks
// to, is not installed.
var ErrNoSwtpm = errors.New("swtpm not found: an emulated TPM needs it (Debian, Ubuntu: apt install swtpm; macOS: brew install swtpm)")

// Swtpm is a running swtpm serving one VM.
type Swtpm struct {
	TPM     TPM // what the VM's Config.TPM is
	pidFile string
}

// StartSwtpm starts swtpm for one VM, its state in dir (a TPM 2.0, or 1.2
// with tpm1), and returns once its socket accepts QEMU. It runs in the
// background, like a detached VM, and ends when that VM disconnects (or
// at Stop): a build left running for debugging keeps its TPM.
func StartSwtpm(ctx context.Context, dir string, tpm1 bool, device string) (*Swtpm, error) {
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		return nil, ErrNoSwtpm
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start swtpm: %w", err)
	}
	s := &Swtpm{TPM: TPM{Socket: filepath.Join(dir, "swtpm.sock"), Device: device}, pidFile: filepath.Join(dir, "swtpm.pid")}
	logFile := filepath.Join(dir, "swtpm.log")
	args := []string{"socket", "--tpmstate", "dir=" + dir, "--ctrl", "type=unixio,path=" + s.TPM.Socket,
		"--terminate", "--daemon", "--pid", "file=" + s.pidFile, "--log", "file=" + logFile}
	if !tpm1 {
		args = append(args, "--tpm2")
	}
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("start swtpm: %w: %s", err, strings.TrimSpace(string(out)+" "+string(log)))
	}
	if _, err := os.Stat(s.TPM.Socket); err != nil {
		s.Stop()
		return nil, fmt.Errorf("start swtpm: no socket: %w", err)
	}
	return s, nil
}

// Stop ends swtpm if it still runs.
func (s *Swtpm) Stop() {
	b, err := os.ReadFile(s.pidFile)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
}
