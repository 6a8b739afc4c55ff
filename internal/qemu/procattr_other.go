//go:build !linux

package qemu

import "syscall"

// attachedAttr starts a VM that belongs to clawimg, in its own process
// group. Outside Linux there is no parent-death signal: a VM of a clawimg
// killed with SIGKILL keeps running until its pidfile's process is killed.
func attachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
