package images

import (
	"os"
	"syscall"

	"fmt"

	"golang.org/x/sys/unix"
)

// FreeSpace is the number of bytes available to unprivileged users under path.
func FreeSpace(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// spaceMargin is kept free beyond what an operation may write.
const spaceMargin = 64 << 20

// checkSpace fails before anything is written when the file system holding
// dir has less than need bytes (plus a margin) free.
func (s *Store) checkSpace(dir string, need int64) error {
	free, err := s.freeSpace(dir)
	if err != nil {
		return fmt.Errorf("check free space in %s: %w", dir, err)
	}
	if uint64(need)+spaceMargin > free {
		return fmt.Errorf("not enough free disk space in %s: need up to %s, %s available", dir, HumanBytes(need+spaceMargin), HumanBytes(int64(free)))
	}
	return nil
}

// HumanBytes prints a size in binary units, as qemu-img does.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// allocatedBytes is the disk space a file really uses (sparse files less
// than their size).
func allocatedBytes(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
