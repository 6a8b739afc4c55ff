package main

import (
	"os/exec"

	"github.com/clawimg/clawimg/launcher"
)

// manager opens the store and the instance manager.
func (e *env) manager(accel string) (*launcher.Manager, error) {
	st, err := e.store()
	if err != nil {
		return nil, err
	}
	cfg := launcher.Config{Home: e.home(), Accel: accel, MultipassBin: e.getenv("CLAWIMG_MULTIPASS")}
	return launcher.NewManager(cfg, st, e.log, launcher.Drivers()), nil
}

// defaultDriver is multipass when it is on PATH, else qemu.
func (e *env) defaultDriver() string {
	if _, err := exec.LookPath("multipass"); err == nil {
		return "multipass"
	}
	return "qemu"
}
