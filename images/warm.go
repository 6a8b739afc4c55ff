package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Media types of warm states. A warm state is stored like an image: a
// manifest whose layers are zstd chunks (shared with every other object in
// the store by digest) and a config that says where each chunk goes.
const (
	MediaTypeWarmConfig = "application/vnd.clawimg.warm.config.v1+json"
	WarmArtifactType    = "application/vnd.clawimg.warm.v1"
	// AnnotationWarmImage names the image a warm state was saved from.
	AnnotationWarmImage = "org.clawimg.warm.image"
)

// WarmConfig is the config blob of a warm state: a running VM of an image,
// saved. Memory is QEMU's migration stream (device state and RAM); Disk is
// the qcow2 delta the VM wrote on top of the image's disk.
type WarmConfig struct {
	Created time.Time `json:"created"`
	// Image is the digest of the image the VM was booted from.
	Image string `json:"image"`
	// Machine is what the VM must be restored on, as the launcher
	// describes it (QEMU version, machine type, CPU model, memory ...).
	Machine   json.RawMessage `json:"machine"`
	ChunkSize int64           `json:"chunk_size"`
	Memory    WarmFile        `json:"memory"`
	Disk      WarmFile        `json:"disk"`
	// ReadyAfter is how long the VM took to become ready, and Attempts how
	// many gateway starts that took (1 when the first one came up).
	ReadyAfter time.Duration `json:"ready_after"`
	Attempts   int           `json:"attempts,omitempty"`
	// Ready is what the VM had reached when it was saved: "gateway" (the
	// OpenClaw gateway healthy) or "ssh" (booted, cloud-init done); empty
	// in states made before clawimg said, which waited for the gateway.
	Ready string `json:"ready,omitempty"`
	// Guest names the guest-side setup the VM's services started with (the
	// launcher's endpoints: where the model provider and the proxy are);
	// empty in states made before. An instance whose setup differs restarts
	// them.
	Guest string `json:"guest,omitempty"`
}

// WarmFile is one file of a warm state, cut into chunks.
type WarmFile struct {
	Size   int64   `json:"size"`
	Chunks []Chunk `json:"chunks"`
}

// WarmState is a warm state in the store.
type WarmState struct {
	Digest string      `json:"digest"` // of its manifest
	Size   int64       `json:"size"`   // compressed bytes of its own blobs
	Config *WarmConfig `json:"config"`
}

// warmList is warm.json: the store's warm states. Each belongs to an image
// of index.json and goes when that image goes.
type warmList struct {
	States []warmEntry `json:"states"`
}

type warmEntry struct {
	Image  string `json:"image"`
	Digest string `json:"digest"`
}

func (s *Store) warmListPath() string { return filepath.Join(s.root, "warm.json") }
func (s *Store) warmCacheDir() string { return filepath.Join(s.root, "warm") }

func (s *Store) loadWarm() (*warmList, error) {
	b, err := os.ReadFile(s.warmListPath())
	if errors.Is(err, os.ErrNotExist) {
		return &warmList{}, nil
	}
	if err != nil {
		return nil, err
	}
	var l warmList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.warmListPath(), err)
	}
	return &l, nil
}

// SaveWarmOptions say what a warm state holds.
type SaveWarmOptions struct {
	Image      string // digest of the image
	Machine    any    // marshalled into the config
	MemoryPath string
	DiskPath   string
	ReadyAfter time.Duration
	Attempts   int
	Ready      string
	Guest      string
	// Replaces is a function that says whether an existing state of the
	// same image is superseded by this one (same machine).
	Replaces func(machine json.RawMessage) bool
	// Keep makes the two files, once stored, the state's unpacked copy
	// (see UnpackWarm): they hold the very bytes its chunks were made of,
	// and the first launch after a warm would otherwise unpack them again
	// (1.5 GB for the built-in image: seconds). The files are moved, so the
	// caller must not use them afterwards; what cannot be moved (another
	// file system) is left for the caller to remove.
	Keep     bool
	Progress ProgressFunc
}

// SaveWarm stores a warm state of an image: its two files are chunked and
// compressed like disks, then the state is listed in warm.json. Nothing is
// listed until every blob is durable, so an interrupted save leaves only
// unreferenced blobs, which prune removes.
func (s *Store) SaveWarm(ctx context.Context, o SaveWarmOptions) (*WarmState, error) {
	st, err := s.saveWarm(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("save warm state of %s: %w", ShortDigest(o.Image), err)
	}
	return st, nil
}

func (s *Store) saveWarm(ctx context.Context, o SaveWarmOptions) (*WarmState, error) {
	if _, _, err := s.manifest(o.Image); err != nil {
		return nil, err
	}
	machine, err := json.Marshal(o.Machine)
	if err != nil {
		return nil, err
	}
	var need int64
	for _, p := range []string{o.MemoryPath, o.DiskPath} {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		need += fi.Size()
	}
	if err := s.checkSpace(s.root, need/2); err != nil { // zstd halves it at worst
		return nil, err
	}
	unlock, err := s.lockGC(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cfg := &WarmConfig{
		Created: time.Now().UTC().Truncate(time.Second), Image: o.Image, Machine: machine,
		ChunkSize: DefaultChunkSize, ReadyAfter: o.ReadyAfter, Attempts: o.Attempts, Ready: o.Ready, Guest: o.Guest,
	}
	var layers []Descriptor
	seen := map[string]bool{}
	for _, part := range []struct {
		path  string
		into  *WarmFile
		phase string
	}{{o.MemoryPath, &cfg.Memory, "save memory"}, {o.DiskPath, &cfg.Disk, "save disk"}} {
		d, err := openRaw(part.path)
		if err != nil {
			return nil, err
		}
		progress := func(p Progress) { p.Phase = part.phase; o.Progress.report(p) }
		c, ls, err := s.pack(ctx, d, ImportOptions{Progress: progress})
		d.Close()
		if err != nil {
			return nil, err
		}
		*part.into = WarmFile{Size: c.VirtualSize, Chunks: c.Chunks}
		if part.into.Chunks == nil {
			part.into.Chunks = []Chunk{}
		}
		for _, l := range ls {
			if !seen[l.Digest] {
				seen[l.Digest] = true
				layers = append(layers, l)
			}
		}
	}
	if layers == nil {
		layers = []Descriptor{}
	}
	cdesc, err := s.putBlobSync(marshal(cfg))
	if err != nil {
		return nil, err
	}
	cdesc.MediaType = MediaTypeWarmConfig
	m := Manifest{
		SchemaVersion: 2, MediaType: MediaTypeManifest, ArtifactType: WarmArtifactType,
		Config: cdesc, Layers: layers,
		Annotations: map[string]string{
			AnnotationCreated:   cfg.Created.Format(time.RFC3339),
			AnnotationWarmImage: o.Image,
		},
	}
	mdesc, err := s.putBlobSync(marshal(m))
	if err != nil {
		return nil, err
	}
	var replaces func(*WarmConfig) bool
	if o.Replaces != nil {
		replaces = func(c *WarmConfig) bool { return o.Replaces(c.Machine) }
	}
	if err := s.listWarm(ctx, o.Image, mdesc.Digest, replaces); err != nil {
		return nil, err
	}
	if o.Keep {
		s.keepUnpacked(ctx, mdesc.Digest, o.MemoryPath, o.DiskPath)
	}
	return s.warmState(mdesc.Digest)
}

// keepUnpacked moves a state's saved files into the warm cache as
// UnpackWarm would have written them. Callers hold the GC lock. Best
// effort: a launch unpacks the state when its directory is not there.
func (s *Store) keepUnpacked(ctx context.Context, digest, mem, disk string) {
	from := map[string]string{warmMemoryFile: mem, warmDiskFile: disk}
	_, err := s.intoWarmCache(digest, func(tmp, name string) error {
		if err := os.Chmod(from[name], 0o444); err != nil {
			return err
		}
		return os.Rename(from[name], filepath.Join(tmp, name))
	})
	if err != nil {
		s.log.DebugContext(ctx, "warm state not kept unpacked; the first launch unpacks it", "state", ShortDigest(digest), "err", err)
	}
}

func (s *Store) warmState(digest string) (*WarmState, error) {
	m, b, err := s.warmManifest(digest)
	if err != nil {
		return nil, err
	}
	cb, err := s.readBlob(m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("warm state %s: config: %w", ShortDigest(digest), err)
	}
	var cfg WarmConfig
	if err := json.Unmarshal(cb, &cfg); err != nil {
		return nil, fmt.Errorf("warm state %s: config: %w", ShortDigest(digest), err)
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("warm state %s: %w", ShortDigest(digest), err)
	}
	size := int64(len(b)) + m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return &WarmState{Digest: digest, Size: size, Config: &cfg}, nil
}

// check validates what a config says before any byte is written from it
// (see checkChunks).
func (c *WarmConfig) check() error {
	if err := checkChunkSize(c.ChunkSize); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		WarmFile
	}{{"memory", c.Memory}, {"disk", c.Disk}} {
		if err := checkChunks(f.name+" ", f.Chunks, f.Size, c.ChunkSize); err != nil {
			return err
		}
	}
	return nil
}

// WarmStates lists the warm states of an image, newest first. A state that
// cannot be read is returned as an error naming it, after the good ones.
func (s *Store) WarmStates(image string) ([]WarmState, error) {
	l, err := s.loadWarm()
	if err != nil {
		return nil, err
	}
	var out []WarmState
	var errs []error
	for i := len(l.States) - 1; i >= 0; i-- {
		e := l.States[i]
		if e.Image != image {
			continue
		}
		st, err := s.warmState(e.Digest)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, *st)
	}
	return out, errors.Join(errs...)
}

// UnpackedWarm is a warm state made ready to restore: files on the host.
type UnpackedWarm struct {
	Memory string // the migration stream
	Disk   string // the qcow2 delta; its backing file is still to be set
}

// The files of an unpacked warm state, in warm/<digest>/.
const (
	warmMemoryFile = "memory"
	warmDiskFile   = "disk.qcow2"
)

// UnpackWarm writes a warm state's files into the store's warm cache
// (warm/<digest>/), checking every chunk, and reuses them on later
// launches. The files are read-only: instances put an overlay on the disk.
func (s *Store) UnpackWarm(ctx context.Context, st *WarmState, progress ProgressFunc) (*UnpackedWarm, error) {
	if out, ok := s.unpackedWarm(st.Digest); ok {
		return out, nil
	}
	unlock, err := s.lockGC(ctx, true) // prune must not remove it half-made
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.checkSpace(s.root, st.Config.Memory.Size+st.Config.Disk.Size); err != nil {
		return nil, err
	}
	what := "warm state " + ShortDigest(st.Digest)
	parts := map[string]WarmFile{warmMemoryFile: st.Config.Memory, warmDiskFile: st.Config.Disk}
	return s.intoWarmCache(st.Digest, func(tmp, name string) error {
		f, err := os.OpenFile(filepath.Join(tmp, name), os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		part := parts[name]
		err = f.Truncate(part.Size)
		if err == nil {
			err = s.eachChunkOf(ctx, what+" "+strings.TrimSuffix(name, ".qcow2"), part.Chunks, st.Config.ChunkSize, "unpack warm state", progress,
				func(c Chunk, b []byte) error { return writeSparse(f, b, c.Offset) })
		}
		if err == nil {
			err = f.Chmod(0o444) // shared by every instance restored from it
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("unpack: %w", err)
		}
		return nil
	})
}

// unpackedWarm is where a state's files are, and whether they are there.
func (s *Store) unpackedWarm(digest string) (*UnpackedWarm, bool) {
	dir := filepath.Join(s.warmCacheDir(), strings.TrimPrefix(digest, "sha256:"))
	out := &UnpackedWarm{Memory: filepath.Join(dir, warmMemoryFile), Disk: filepath.Join(dir, warmDiskFile)}
	_, err := os.Stat(dir)
	return out, err == nil
}

// intoWarmCache makes a state's unpacked directory whole or not at all:
// place puts each of its files (memory, then disk) into a new temporary
// directory, which is then renamed into place. Made meanwhile by another
// launch is as good. Callers hold the GC lock.
func (s *Store) intoWarmCache(digest string, place func(tmp, name string) error) (*UnpackedWarm, error) {
	out, ok := s.unpackedWarm(digest)
	if ok {
		return out, nil
	}
	if err := os.MkdirAll(s.warmCacheDir(), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(s.tmpDir(), "warm-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{warmMemoryFile, warmDiskFile} {
		if err := place(tmp, name); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp, filepath.Dir(out.Memory)); err != nil {
		if _, ok := s.unpackedWarm(digest); ok {
			return out, nil
		}
		return nil, err
	}
	return out, nil
}

// VerifyWarm re-reads and re-hashes every chunk of a warm state.
func (s *Store) VerifyWarm(ctx context.Context, st *WarmState, progress ProgressFunc) error {
	what := "warm state " + ShortDigest(st.Digest)
	for name, f := range map[string]WarmFile{"memory": st.Config.Memory, "disk": st.Config.Disk} {
		if err := s.eachChunkOf(ctx, what+" "+name, f.Chunks, st.Config.ChunkSize, "verify", progress,
			func(Chunk, []byte) error { return nil }); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	return nil
}

// liveWarm returns warm.json's entries whose image is still in the index
// (or held), and rewrites warm.json without the others. Callers hold the
// GC lock exclusively.
func (s *Store) liveWarm(ctx context.Context, live func(image string) bool) ([]warmEntry, error) {
	var kept []warmEntry
	err := s.withIndexLock(ctx, func() error {
		l, err := s.loadWarm()
		if err != nil {
			return err
		}
		changed := false
		for _, e := range l.States {
			if live(e.Image) {
				kept = append(kept, e)
			} else {
				changed = true
			}
		}
		if !changed {
			return nil
		}
		l.States = kept
		if l.States == nil {
			l.States = []warmEntry{}
		}
		return s.writeIndexFile(s.warmListPath(), marshal(l))
	})
	return kept, err
}

// withIndexLock runs fn holding the index lock.
func (s *Store) withIndexLock(ctx context.Context, fn func() error) error {
	unlock, err := s.lockIndex(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// WarmBacking is the backing file name a warm state's disk delta must
// carry: the image's unpacked base, relative to where UnpackWarm puts the
// delta, so that an unpacked state works in any store.
func (s *Store) WarmBacking(image string) string {
	return "../../bases/" + strings.TrimPrefix(image, "sha256:") + ".raw"
}

// listWarm lists a stored warm state in warm.json beside its image, which
// must still be in the index, dropping the states of that image that
// replaces says it supersedes.
func (s *Store) listWarm(ctx context.Context, image, digest string, replaces func(*WarmConfig) bool) error {
	return s.updateIndex(ctx, func(idx *Index) error {
		found := false
		for _, d := range idx.Manifests {
			found = found || d.Digest == image
		}
		if !found {
			return fmt.Errorf("%w: %s was removed meanwhile", ErrNotFound, image)
		}
		l, err := s.loadWarm()
		if err != nil {
			return err
		}
		var kept []warmEntry
		for _, e := range l.States {
			if e.Digest == digest {
				continue
			}
			if e.Image == image && replaces != nil {
				if old, err := s.warmState(e.Digest); err == nil && replaces(old.Config) {
					continue
				}
			}
			kept = append(kept, e)
		}
		l.States = append(kept, warmEntry{Image: image, Digest: digest})
		return s.writeIndexFile(s.warmListPath(), marshal(l))
	})
}

// warmManifest reads a warm state's manifest, with its exact bytes.
func (s *Store) warmManifest(digest string) (*Manifest, []byte, error) {
	b, err := s.readBlob(digest)
	if err != nil {
		return nil, nil, fmt.Errorf("warm state: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil || m.ArtifactType != WarmArtifactType {
		return nil, nil, fmt.Errorf("warm state %s: not a warm state manifest", ShortDigest(digest))
	}
	return &m, b, nil
}

// layersCover reports whether every chunk of the state is one of layers,
// so that a pulled state needs nothing the manifest did not bring.
func (c *WarmConfig) layersCover(layers []Descriptor) bool {
	return coveredBy(c.Memory.Chunks, layers) && coveredBy(c.Disk.Chunks, layers)
}
