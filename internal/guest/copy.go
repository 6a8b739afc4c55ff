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
	var n Copied
	fi, err := os.Lstat(src)
	if err != nil {
		return n, err
	}
	if fi.IsDir() && !recursive {
		return n, fmt.Errorf("copy %s: %w", src, ErrIsDirectory)
	}
	if st, err := sc.Stat(dst); err == nil && st.IsDir() {
		dst = path.Join(dst, filepath.Base(filepath.Clean(src)))
	}
	err = upload(sc, src, dst, fi, &n)
	return n, err
}

func upload(sc *sftp.Client, src, dst string, fi fs.FileInfo, n *Copied) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		_ = sc.Remove(dst)
		if err := sc.Symlink(target, dst); err != nil {
			return fmt.Errorf("symlink %s in the instance: %w", dst, err)
		}
		n.Links++
		return nil
	case fi.IsDir():
		if err := sc.Mkdir(dst); err != nil {
			if st, serr := sc.Stat(dst); serr != nil || !st.IsDir() {
				return fmt.Errorf("mkdir %s in the instance: %w", dst, err)
			}
		}
		_ = sc.Chmod(dst, fi.Mode().Perm())
		n.Dirs++
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil {
				return err
			}
			if err := upload(sc, filepath.Join(src, e.Name()), path.Join(dst, e.Name()), info, n); err != nil {
				return err
			}
		}
		return nil
	case fi.Mode().IsRegular():
		return uploadFile(sc, src, dst, fi, n)
	}
	return fmt.Errorf("copy %s: not a regular file, directory or symlink", src)
}

func uploadFile(sc *sftp.Client, src, dst string, fi fs.FileInfo, n *Copied) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := path.Join(path.Dir(dst), "."+path.Base(dst)+".clawimg-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	out, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("write %s in the instance: %w", dst, err)
	}
	written, err := io.Copy(out, in)
	if err == nil {
		err = out.Chmod(fi.Mode().Perm())
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = sc.PosixRename(tmp, dst)
	}
	if err != nil {
		_ = sc.Remove(tmp)
		return fmt.Errorf("write %s in the instance: %w", dst, err)
	}
	n.Files++
	n.Bytes += written
	return nil
}

// Download copies src in the guest to the host's dst, as Upload does the
// other way.
func Download(sc *sftp.Client, src, dst string, recursive bool) (Copied, error) {
	var n Copied
	fi, err := sc.Lstat(src)
	if err != nil {
		return n, fmt.Errorf("%s in the instance: %w", src, err)
	}
	if fi.IsDir() && !recursive {
		return n, fmt.Errorf("copy %s: %w", src, ErrIsDirectory)
	}
	if st, err := os.Stat(dst); err == nil && st.IsDir() {
		dst = filepath.Join(dst, path.Base(path.Clean(src)))
	}
	err = download(sc, src, dst, fi, &n)
	return n, err
}

func download(sc *sftp.Client, src, dst string, fi fs.FileInfo, n *Copied) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := sc.ReadLink(src)
		if err != nil {
			return fmt.Errorf("%s in the instance: %w", src, err)
		}
		_ = os.Remove(dst)
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		n.Links++
		return nil
	case fi.IsDir():
		if err := os.Mkdir(dst, fi.Mode().Perm()|0o700); err != nil {
			if st, serr := os.Stat(dst); serr != nil || !st.IsDir() {
				return err
			}
		}
		n.Dirs++
		entries, err := sc.ReadDir(src)
		if err != nil {
			return fmt.Errorf("%s in the instance: %w", src, err)
		}
		for _, e := range entries {
			if err := download(sc, path.Join(src, e.Name()), filepath.Join(dst, e.Name()), e, n); err != nil {
				return err
			}
		}
		return os.Chmod(dst, fi.Mode().Perm())
	case fi.Mode().IsRegular():
		return downloadFile(sc, src, dst, fi, n)
	}
	return fmt.Errorf("copy %s: not a regular file, directory or symlink", src)
}

func downloadFile(sc *sftp.Client, src, dst string, fi fs.FileInfo, n *Copied) error {
	in, err := sc.Open(src)
	if err != nil {
		return fmt.Errorf("%s in the instance: %w", src, err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".clawimg-*")
	if err != nil {
		return err
	}
	written, err := io.Copy(out, in)
	if err == nil {
		err = out.Chmod(fi.Mode().Perm())
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), dst)
	}
	if err != nil {
		os.Remove(out.Name())
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	n.Files++
	n.Bytes += written
	return nil
}
