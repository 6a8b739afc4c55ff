package qemu

import (
	"fmt"
	"os"
)

// processCommand is the command line of a running process (its arguments
// separated by NULs), for telling a VM's QEMU from a process that reused
// its pid.
func processCommand(pid int) ([]byte, error) {
	return os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
}
