package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Base returns the path of the image's unpacked, read-only raw disk, made on
// first use and reused after, so launching an image a second time never
// decompresses it. Instances put a copy-on-write overlay on top of it.
func (s *Store) Base(ctx context.Context, ref string, progress ProgressFunc) (string, *Image, error) {
	img, err := s.Resolve(ref)
	if err != nil {
		return "", nil, fmt.Errorf("unpack %s: %w", ref, err)
	}
	path, err := s.base(ctx, img, progress)
	if err != nil {
		return "", img, fmt.Errorf("unpack %s: %w", ref, err)
	}
	return path, img, nil
}

func (s *Store) basePath(digest string) string {
	return filepath.Join(s.baseDir(), strings.TrimPrefix(digest, "sha256:")+".raw")
}

func (s *Store) base(ctx context.Context, img *Image, progress ProgressFunc) (string, error) {
	path := s.basePath(img.Digest)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	unlock, err := s.lockGC(ctx, true) // prune must not remove it half-made
	if err != nil {
		return "", err
	}
	defer unlock()
	need, err := s.dataSize(img)
	if err != nil {
		return "", err
	}
	if err := s.checkSpace(s.baseDir(), need); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(s.tmpDir(), "base-*.raw")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	err = s.unpackTo(ctx, img, tmp, "unpack", progress)
	if err == nil {
		err = tmp.Chmod(0o444)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		return path, nil // made meanwhile by another launch
	}
	return path, os.Rename(tmp.Name(), path)
}
