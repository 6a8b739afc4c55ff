package images

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncStaged makes the staged files in dir durable with one syncfs of the
// file system that holds them: far cheaper than one fsync per blob.
func syncStaged(dir string, _ []string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
