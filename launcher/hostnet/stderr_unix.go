//go:build unix

package hostnet

import (
	"os"

	"golang.org/x/sys/unix"
)

// redirectStderr points file descriptor 2 at f, so that nothing written to
// standard error (a runtime crash included) reaches the guest.
func redirectStderr(f *os.File) {
	_ = unix.Dup2(int(f.Fd()), 2)
}
