package qemu

import "syscall"

// attachedAttr starts a VM that belongs to clawimg: its own process group
// (a ^C reaches clawimg, which shuts the VM down in order), and killed
// with clawimg even when clawimg is killed itself.
func attachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
