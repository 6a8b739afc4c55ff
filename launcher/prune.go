package launcher

import (
	"context"
	"sort"
	"strings"
)

// copyPruner is a driver that keeps copies of images of its own:
// multipass's, converted once per image in a folder its daemon can read.
type copyPruner interface {
	// PruneCopies removes the copies of images keep does not want (it is
	// given an image digest) and says how many and how many bytes.
	PruneCopies(ctx context.Context, keep func(digest string) bool) (int, int64, error)
}

// PrunedCopies is what PruneCopies removed.
type PrunedCopies struct {
	Copies int
	Freed  int64
}

// PruneCopies removes the drivers' copies of images that are no longer in
// the store (run after the store's own prune, as clawimg prune does).
func (m *Manager) PruneCopies(ctx context.Context) (PrunedCopies, error) {
	var out PrunedCopies
	imgs, err := m.store.List()
	if err != nil {
		return out, err
	}
	keep := func(digest string) bool {
		for _, img := range imgs {
			if strings.HasPrefix(strings.TrimPrefix(img.Digest, "sha256:"), strings.TrimPrefix(digest, "sha256:")) {
				return true
			}
		}
		return false
	}
	names := make([]string, 0, len(m.drivers))
	for n := range m.drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d, err := m.driver(n)
		if err != nil {
			continue
		}
		if p, ok := d.(copyPruner); ok {
			c, freed, err := p.PruneCopies(ctx, keep)
			out.Copies += c
			out.Freed += freed
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}
