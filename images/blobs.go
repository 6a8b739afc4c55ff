package images

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// validDigest reports whether d is "sha256:" and 64 lower-case hex digits,
// so it can be used as a file name safely.
func validDigest(d string) bool {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.blobDir(), strings.TrimPrefix(digest, "sha256:"))
}

// hasBlob reports whether a blob is present with the expected size.
func (s *Store) hasBlob(digest string, size int64) bool {
	fi, err := os.Stat(s.blobPath(digest))
	return err == nil && fi.Mode().IsRegular() && (size < 0 || fi.Size() == size)
}

// readBlob reads a blob and checks it against its digest.
func (s *Store) readBlob(digest string) ([]byte, error) {
	if !validDigest(digest) {
		return nil, fmt.Errorf("invalid digest %q", digest)
	}
	b, err := os.ReadFile(s.blobPath(digest))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("blob %s is missing", digest)
		}
		return nil, err
	}
	if got := digestOf(b); got != digest {
		return nil, fmt.Errorf("blob %s is corrupt (its content hashes to %s)", digest, got)
	}
	return b, nil
}

// putBlobSync stores a small blob (config, manifest) atomically and durably.
func (s *Store) putBlobSync(data []byte) (Descriptor, error) {
	d := digestOf(data)
	desc := Descriptor{Digest: d, Size: int64(len(data))}
	if s.hasBlob(d, desc.Size) {
		return desc, nil
	}
	return desc, writeFileSync(s.blobPath(d), data)
}

// stageBlob writes data to a temporary file in the store's tmp directory,
// without syncing: a batch of staged blobs is made durable with one syncfs
// and then renamed into place (see commitStaged).
func (s *Store) stageBlob(data []byte) (string, error) {
	f, err := os.CreateTemp(s.tmpDir(), "blob-*")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// copyBlob streams a blob's verified content to w.
func (s *Store) copyBlob(w io.Writer, digest string) error {
	b, err := s.readBlob(digest)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
