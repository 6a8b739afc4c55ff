package main

import (
	"os"
	"os/exec"

	"github.com/clawimg/clawimg/launcher"
	"github.com/clawimg/clawimg/launcher/drivers"
)

// manager opens the store and the instance manager.
func (e *env) manager(accel string) (*launcher.Manager, error) {
	st, err := e.store()
	if err != nil {
		return nil, err
	}
	cfg := launcher.Config{Home: e.home(), Accel: accel, MultipassBin: e.getenv("CLAWIMG_MULTIPASS")}
	// QEMU runs this binary to serve each guest connection to an
	// instance's broker or proxy.
	if exe, err := os.Executable(); err == nil {
		cfg.Helper = []string{exe, "guestfwd"}
	}
	return launcher.NewManager(cfg, st, e.log, drivers.All()), nil
}

// defaultDriver is multipass when it is on PATH, else qemu.
func (e *env) defaultDriver() string {
	if _, err := exec.LookPath("multipass"); err == nil {
		return "multipass"
	}
	return "qemu"
}
