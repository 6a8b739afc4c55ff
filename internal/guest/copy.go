package guest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pkg/sftp"
)

// ErrIsDirectory is a directory given to a copy that was not asked to
// copy directories.
var ErrIsDirectory = errors.New("is a directory")

// Copied counts what a copy wrote.
type Copied struct {
	Files, Dirs, Links int
	Bytes              int64
}

// Upload copies the host's src to dst in the guest the way cp does: into
// dst when dst is a directory, else as dst. A directory needs recursive.
// Each file is written beside its destination and renamed over it, so a
// failed copy never leaves a half-written file under the real name.
func Upload(sc *sftp.Client, src, dst string, recursive bool) (Copied, error) {
	return copyTree(hostFS{}, guestFS{sc}, src, dst, recursive)
}

// Download copies src in the guest to the host's dst, as Upload does the
// other way.
func Download(sc *sftp.Client, src, dst string, recursive bool) (Copied, error) {
	return copyTree(guestFS{sc}, hostFS{}, src, dst, recursive)
}

// tree is one side of a copy: the host's file system, or the guest's
// over SFTP. Its errors say which side they come from.
type tree interface {
	Lstat(p string) (fs.FileInfo, error)
	Stat(p string) (fs.FileInfo, error)
	ReadDir(p string) ([]fs.FileInfo, error)
	Readlink(p string) (string, error)
	Symlink(target, p string) error
	Mkdir(p string) error
	Chmod(p string, mode fs.FileMode) error
	Open(p string) (io.ReadCloser, error)
	// Create makes a new file that must not exist yet.
	Create(p string) (io.WriteCloser, error)
	Rename(from, to string) error
	Remove(p string) error
	Join(elem ...string) string
	Split(p string) (dir, base string)
}

func copyTree(from, to tree, src, dst string, recursive bool) (Copied, error) {
	var n Copied
	fi, err := from.Lstat(src)
	if err != nil {
		return n, err
	}
	if fi.IsDir() && !recursive {
		return n, fmt.Errorf("copy %s: %w", src, ErrIsDirectory)
	}
	if st, err := to.Stat(dst); err == nil && st.IsDir() {
		_, base := from.Split(src)
		dst = to.Join(dst, base)
	}
	err = copyEntry(from, to, src, dst, fi, &n)
	return n, err
}

func copyEntry(from, to tree, src, dst string, fi fs.FileInfo, n *Copied) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := from.Readlink(src)
		if err != nil {
			return err
		}
		_ = to.Remove(dst)
		if err := to.Symlink(target, dst); err != nil {
			return err
		}
		n.Links++
		return nil
	case fi.IsDir():
		if err := to.Mkdir(dst); err != nil {
			if st, serr := to.Stat(dst); serr != nil || !st.IsDir() {
				return err
			}
		}
		n.Dirs++
		entries, err := from.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := copyEntry(from, to, from.Join(src, e.Name()), to.Join(dst, e.Name()), e, n); err != nil {
				return err
			}
		}
		// The mode last: a read-only directory still received its entries.
		return to.Chmod(dst, fi.Mode().Perm())
	case fi.Mode().IsRegular():
		return copyFile(from, to, src, dst, fi, n)
	}
	return fmt.Errorf("copy %s: not a regular file, directory or symlink", src)
}

// copyFile writes a temporary file beside dst and renames it over dst.
func copyFile(from, to tree, src, dst string, fi fs.FileInfo, n *Copied) error {
	in, err := from.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	dir, base := to.Split(dst)
	tmp := to.Join(dir, "."+base+".clawimg-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	out, err := to.Create(tmp)
	if err != nil {
		return err
	}
	written, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = to.Chmod(tmp, fi.Mode().Perm())
	}
	if err == nil {
		err = to.Rename(tmp, dst)
	}
	if err != nil {
		_ = to.Remove(tmp)
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	n.Files++
	n.Bytes += written
	return nil
}

// hostFS is the host's side of a copy.
type hostFS struct{}

func (hostFS) Lstat(p string) (fs.FileInfo, error) { return os.Lstat(p) }
func (hostFS) Stat(p string) (fs.FileInfo, error)  { return os.Stat(p) }
func (hostFS) ReadDir(p string) ([]fs.FileInfo, error) {
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	infos := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		infos = append(infos, fi)
	}
	return infos, nil
}
func (hostFS) Readlink(p string) (string, error)      { return os.Readlink(p) }
func (hostFS) Symlink(target, p string) error         { return os.Symlink(target, p) }
func (hostFS) Mkdir(p string) error                   { return os.Mkdir(p, 0o700) }
func (hostFS) Chmod(p string, mode fs.FileMode) error { return os.Chmod(p, mode) }
func (hostFS) Open(p string) (io.ReadCloser, error)   { return os.Open(p) }
func (hostFS) Create(p string) (io.WriteCloser, error) {
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}
func (hostFS) Rename(from, to string) error { return os.Rename(from, to) }
func (hostFS) Remove(p string) error        { return os.Remove(p) }
func (hostFS) Join(elem ...string) string   { return filepath.Join(elem...) }
func (hostFS) Split(p string) (dir, base string) {
	p = filepath.Clean(p)
	return filepath.Dir(p), filepath.Base(p)
}

// guestFS is the guest's side of a copy, over SFTP (paths are POSIX).
type guestFS struct{ sc *sftp.Client }

func (g guestFS) wrap(op, p string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s in the instance: %w", op, p, err)
}
func (g guestFS) Lstat(p string) (fs.FileInfo, error) {
	fi, err := g.sc.Lstat(p)
	return fi, g.wrap("stat", p, err)
}
func (g guestFS) Stat(p string) (fs.FileInfo, error) { return g.sc.Stat(p) }
func (g guestFS) ReadDir(p string) ([]fs.FileInfo, error) {
	infos, err := g.sc.ReadDir(p)
	return infos, g.wrap("read", p, err)
}
func (g guestFS) Readlink(p string) (string, error) {
	t, err := g.sc.ReadLink(p)
	return t, g.wrap("readlink", p, err)
}
func (g guestFS) Symlink(target, p string) error {
	return g.wrap("symlink", p, g.sc.Symlink(target, p))
}
func (g guestFS) Mkdir(p string) error { return g.wrap("mkdir", p, g.sc.Mkdir(p)) }
func (g guestFS) Chmod(p string, mode fs.FileMode) error {
	return g.wrap("chmod", p, g.sc.Chmod(p, mode))
}
func (g guestFS) Open(p string) (io.ReadCloser, error) {
	f, err := g.sc.Open(p)
	if err != nil {
		return nil, g.wrap("open", p, err)
	}
	return f, nil
}
func (g guestFS) Create(p string) (io.WriteCloser, error) {
	f, err := g.sc.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return nil, g.wrap("create", p, err)
	}
	return f, nil
}
func (g guestFS) Rename(from, to string) error {
	return g.wrap("rename", to, g.sc.PosixRename(from, to))
}
func (g guestFS) Remove(p string) error    { return g.sc.Remove(p) }
func (guestFS) Join(elem ...string) string { return path.Join(elem...) }
func (guestFS) Split(p string) (dir, base string) {
	p = path.Clean(p)
	return path.Dir(p), path.Base(p)
}
