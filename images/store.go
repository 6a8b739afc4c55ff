package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
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
	s.keepReserve()
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
	try := fl.TryLock
	wait := fl.TryLockContext
	if shared {
		try, wait = fl.TryRLock, fl.TryRLockContext
	}
	// Once at once; when another clawimg holds it, say so and wait.
	ok, err := try()
	if err == nil && !ok {
		s.log.DebugContext(ctx, "waiting for a store lock another clawimg holds", "lock", name, "shared", shared)
		start := time.Now()
		ok, err = wait(ctx, 50*time.Millisecond)
		s.log.DebugContext(ctx, "store lock taken", "lock", name, "waited", time.Since(start).Round(time.Millisecond))
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

// reserveSize is kept on disk for the index: rmi and prune must rewrite
// index.json before they may free anything, and on a full disk they could
// not (then nothing could be removed to make room).
const reserveSize = 1 << 20

func (s *Store) reservePath() string { return filepath.Join(s.root, "reserve") }

// keepReserve makes the reserve file when it is missing and there is room.
func (s *Store) keepReserve() {
	if _, err := os.Stat(s.reservePath()); err == nil {
		return
	}
	f, err := os.OpenFile(s.reservePath()+".tmp", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	_, err = f.Write(make([]byte, reserveSize)) // written, not sparse: it must hold blocks
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err == nil {
		err = os.Rename(s.reservePath()+".tmp", s.reservePath())
	}
	if err != nil {
		os.Remove(s.reservePath() + ".tmp")
	}
}

// writeIndexFile writes index.json or warm.json; when the disk is full it
// gives up the reserve and tries again, so a full store can still be
// cleaned up.
func (s *Store) writeIndexFile(path string, data []byte) error {
	err := writeFileSync(path, data)
	if errors.Is(err, syscall.ENOSPC) {
		if os.Remove(s.reservePath()) == nil {
			err = writeFileSync(path, data)
		}
	}
	return err
}
