package launcher

import (
	"context"
	"errors"

	"github.com/clawimg/clawimg/images"
)

// image finds ref in the store. A reference to a registry
// (host[:port]/repo:tag) that the store lacks is pulled first and kept
// under that same name, as docker run does, so the next launch finds it.
func (m *Manager) image(ctx context.Context, ref string, progress func(string), bytes images.ProgressFunc) (*images.Details, error) {
	details, err := m.store.Inspect(ref)
	if err == nil || !errors.Is(err, images.ErrNotFound) || !images.IsRemote(ref) {
		return details, err
	}
	progress("pull " + ref)
	if _, err := m.store.Pull(ctx, ref, ref, images.RemoteOptions{Progress: bytes}); err != nil {
		return nil, err
	}
	return m.store.Inspect(ref)
}
