//go:build !linux

package qemu

import (
	"os/exec"
	"strconv"
)

// processCommand is the command line of a running process, from ps (there
// is no /proc outside Linux), for telling a VM's QEMU from a process that
// reused its pid.
func processCommand(pid int) ([]byte, error) {
	return exec.Command("ps", "-o", "command=", "-p", strconv.Itoa(pid)).Output()
}
