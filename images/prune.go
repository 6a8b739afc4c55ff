package images

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// PruneReport says what prune removed.
type PruneReport struct {
	Images []string // digests of untagged images removed
	Blobs  int
	Bases  int
	Freed  int64 // bytes
	// Kept says why blobs were kept that may be unreferenced.
	Kept string
}

// Prune removes untagged images no instance uses, unpacked bases no
// instance uses, blobs no image references, and leftovers of interrupted
// imports.
func (s *Store) Prune(ctx context.Context) (*PruneReport, error) {
	unlock, err := s.lockGC(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// What nothing references goes first: on a full disk that is the room
	// the index needs to be rewritten.
	early, err := s.collect(ctx)
	if err != nil {
		return nil, err
	}
	holds, err := s.holders()
	if err != nil {
		return nil, err
	}
	var removed []string
	err = s.updateIndex(ctx, func(idx *Index) error {
		var kept []Descriptor
		for _, d := range idx.Manifests {
			if refName(d) == "" && len(holds[d.Digest]) == 0 {
				removed = append(removed, d.Digest)
				continue
			}
			kept = append(kept, d)
		}
		idx.Manifests = append([]Descriptor{}, kept...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep, err := s.collect(ctx)
	if err != nil {
		return nil, err
	}
	rep.Blobs += early.Blobs
	rep.Bases += early.Bases
	rep.Freed += early.Freed
	rep.Images = removed
	// Unpacked warm states are a cache too.
	states, err := s.loadWarm()
	if err != nil {
		return nil, err
	}
	imageOf := map[string]string{}
	for _, e := range states.States {
		imageOf[strings.TrimPrefix(e.Digest, "sha256:")] = e.Image
	}
	warms, _ := os.ReadDir(s.warmCacheDir())
	for _, e := range warms {
		if len(holds[imageOf[e.Name()]]) > 0 {
			continue
		}
		rep.Freed += removeTreeCounting(filepath.Join(s.warmCacheDir(), e.Name()))
		rep.Bases++
	}
	// Unpacked bases are a cache: remove those no instance uses.
	entries, _ := os.ReadDir(s.baseDir())
	for _, e := range entries {
		digest := "sha256:" + strings.TrimSuffix(e.Name(), ".raw")
		if len(holds[digest]) > 0 {
			continue
		}
		rep.Freed += removeCounting(filepath.Join(s.baseDir(), e.Name()))
		rep.Bases++
	}
	return rep, nil
}

// collect deletes blobs that no image in the index (or held by an
// instance) references, and temporary files, then restores the index's
// reserve. Callers hold gc.lock exclusively.
func (s *Store) collect(ctx context.Context) (*PruneReport, error) {
	defer s.keepReserve()
	idx, err := s.loadIndex()
	if err != nil {
		return nil, err
	}
	holds, err := s.holders()
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	var roots []string
	images := map[string]bool{}
	for _, d := range idx.Manifests {
		roots = append(roots, d.Digest)
		images[d.Digest] = true
	}
	for d := range holds {
		roots = append(roots, d)
		images[d] = true
	}
	// Warm states live as long as their image.
	warm, err := s.liveWarm(ctx, func(image string) bool { return images[image] })
	if err != nil {
		return nil, err
	}
	for _, e := range warm {
		roots = append(roots, e.Digest)
	}
	// An image whose config is damaged still names its chunks in its
	// manifest; one whose manifest is damaged names nothing, and then no
	// chunk is deleted at all: prune never takes a tagged image's data.
	unknown := false
	for _, d := range roots {
		live[d] = true
		m, err := s.manifestOnly(d)
		if err != nil {
			unknown = true
			continue
		}
		live[m.Config.Digest] = true
		for _, l := range m.Layers {
			live[l.Digest] = true
		}
	}
	rep := &PruneReport{}
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !live["sha256:"+e.Name()] && !unknown {
			rep.Freed += removeCounting(filepath.Join(s.blobDir(), e.Name()))
			rep.Blobs++
		}
	}
	if unknown {
		rep.Kept = "a damaged manifest names no chunks, so none was removed: remove its image (clawimg rmi) first"
	}
	tmps, _ := os.ReadDir(s.tmpDir())
	for _, e := range tmps {
		rep.Freed += removeCounting(filepath.Join(s.tmpDir(), e.Name()))
	}
	// Unpacked warm states that are gone.
	warms, _ := os.ReadDir(s.warmCacheDir())
	for _, e := range warms {
		if !live["sha256:"+e.Name()] {
			rep.Freed += removeTreeCounting(filepath.Join(s.warmCacheDir(), e.Name()))
			rep.Bases++
		}
	}
	// Bases of images that are gone altogether.
	bases, _ := os.ReadDir(s.baseDir())
	for _, e := range bases {
		if !live["sha256:"+strings.TrimSuffix(e.Name(), ".raw")] {
			rep.Freed += removeCounting(filepath.Join(s.baseDir(), e.Name()))
			rep.Bases++
		}
	}
	return rep, nil
}

// removeTreeCounting removes a directory of files and returns the disk
// space they used.
func removeTreeCounting(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n += removeCounting(filepath.Join(dir, e.Name()))
	}
	if os.Remove(dir) != nil {
		return 0
	}
	return n
}

// removeCounting removes a file and returns the disk space it used.
func removeCounting(path string) int64 {
	var n int64
	if fi, err := os.Stat(path); err == nil {
		n = allocatedBytes(fi)
	}
	if os.Remove(path) != nil {
		return 0
	}
	return n
}
