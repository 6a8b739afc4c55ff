package images

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawimg/clawimg/internal/qemuimg"
)

// Export writes an image to path, in the format its extension names:
// .raw or .img (sparse raw disk), .qcow2, or .tar (an OCI layout archive
// that Import reads back). The file appears only when it is complete.
func (s *Store) Export(ctx context.Context, ref, path string, progress ProgressFunc) (*Image, error) {
	img, err := s.Resolve(ref)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", ref, err)
	}
	if err := s.export(ctx, img, path, progress); err != nil {
		return img, fmt.Errorf("export %s: %w", ref, err)
	}
	return img, nil
}

func (s *Store) export(ctx context.Context, img *Image, path string, progress ProgressFunc) error {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".raw", ".img", ".qcow2", ".tar":
	default:
		return fmt.Errorf("unknown output format %q: use .raw, .img, .qcow2 or .tar", ext)
	}
	dir := filepath.Dir(path)
	need := img.Size
	if ext != ".tar" {
		n, err := s.dataSize(img)
		if err != nil {
			return err
		}
		need = n
	}
	if err := s.checkSpace(dir, need); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	switch ext {
	case ".tar":
		err = s.writeArchive(ctx, img, tmp, progress)
	case ".qcow2":
		err = s.exportQcow2(ctx, img, tmp, progress)
	default:
		err = s.unpackTo(ctx, img, tmp, "export", progress)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// exportQcow2 converts the image's unpacked base (made if missing) to qcow2.
func (s *Store) exportQcow2(ctx context.Context, img *Image, out *os.File, progress ProgressFunc) error {
	base, err := s.base(ctx, img, progress)
	if err != nil {
		return err
	}
	report := func(done, total int64) { progress.report(Progress{Phase: "convert", Done: done, Total: total}) }
	return qemuimg.Convert(ctx, s.log, img.VirtualSize, report, "-f", "raw", "-O", "qcow2", base, out.Name())
}
