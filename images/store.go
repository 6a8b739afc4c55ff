package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/clawimg/clawimg/internal/atomicfile"
)

// Store is a local image store rooted at a directory ($CLAWIMG_HOME).
type Store struct {
	root string
	log  *slog.Logger
	// freeSpace reports the bytes available under a path; replaced in tests.
	freeSpace func(path string) (uint64, error)
}

// Open opens (creating if needed) the store at root.
func Open(root string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{root: root, log: log, freeSpace: FreeSpace}
	for _, d := range []string{s.blobDir(), s.tmpDir(), s.baseDir(), s.holdDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("open store %s: %w", root, err)
		}
	}
	layout := filepath.Join(root, "oci-layout")
	if _, err := os.Stat(layout); errors.Is(err, os.ErrNotExist) {
		if err := writeFileSync(layout, []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
			return nil, fmt.Errorf("open store %s: %w", root, err)
		}
	}
	return s, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

func (s *Store) blobDir() string   { return filepath.Join(s.root, "blobs", "sha256") }
func (s *Store) tmpDir() string    { return filepath.Join(s.root, "tmp") }
func (s *Store) baseDir() string   { return filepath.Join(s.root, "bases") }
func (s *Store) holdDir() string   { return filepath.Join(s.root, "holds") }
func (s *Store) indexPath() string { return filepath.Join(s.root, "index.json") }

// Locks. Writers of the index hold index.lock exclusively. Everything that
// adds blobs holds gc.lock shared for as long as its new blobs are not yet
// referenced by the index; prune holds it exclusively, so it never deletes a
// blob an import is about to reference.
func (s *Store) lock(ctx context.Context, name string, shared bool) (func(), error) {
	fl := flock.New(filepath.Join(s.root, name))
	var ok bool
	var err error
	if shared {
		ok, err = fl.TryRLockContext(ctx, 50*time.Millisecond)
	} else {
		ok, err = fl.TryLockContext(ctx, 50*time.Millisecond)
	}
	if err != nil || !ok {
		return nil, fmt.Errorf("lock store %s: %w", s.root, errors.Join(err, ctx.Err()))
	}
	return func() { _ = fl.Unlock() }, nil
}

func (s *Store) lockIndex(ctx context.Context) (func(), error) {
	return s.lock(ctx, "index.lock", false)
}
func (s *Store) lockGC(ctx context.Context, shared bool) (func(), error) {
	return s.lock(ctx, "gc.lock", shared)
}

// writeFileSync writes a small file atomically and durably, readable by
// the owner only.
func writeFileSync(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o600)
}
