package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"

	"github.com/clawimg/clawimg/internal/atomicfile"
)

// DefaultChunkSize is the size of the pieces a disk is cut into. 4 MiB was
// chosen by measurement (see the README's store section): smaller chunks
// dedup slightly better between images but compress worse and make more
// blobs to push; larger ones compress about the same and dedup worse.
const DefaultChunkSize = 4 << 20

// DefaultLevel is the zstd level of stored chunks.
const DefaultLevel = zstd.SpeedDefault

// ImportOptions say how a disk is stored.
type ImportOptions struct {
	// Tag is NAME[:TAG]; empty means the file's base name, tag latest.
	Tag      string
	Meta     Metadata
	Progress ProgressFunc
	// ChunkSize and Level override the defaults (benchmarks use them).
	ChunkSize int64
	Level     zstd.EncoderLevel
	// Chain says whether a qcow2 may have a backing file: only disks
	// clawimg made itself (the builder's) may; the stored image is
	// self-contained either way.
	Chain ChainPolicy
}

// Import stores a raw or qcow2 disk, or an archive written by Export, and
// tags it.
func (s *Store) Import(ctx context.Context, path string, opts ImportOptions) (*Image, error) {
	img, err := s.importFile(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	return img, nil
}

func (s *Store) importFile(ctx context.Context, path string, opts ImportOptions) (*Image, error) {
	tag := opts.Tag
	if tag == "" {
		tag = defaultName(path)
	}
	ref, err := ParseRef(tag)
	if err != nil {
		return nil, err
	}
	if ref.Digest != "" {
		return nil, fmt.Errorf("cannot tag an image with a digest (%s)", tag)
	}
	// Stat before opening: opening a FIFO blocks until a writer comes.
	// Devices report no size, and nothing else is a disk file.
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if fi.IsDir() {
		return nil, fmt.Errorf("is a directory")
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file (%s): copy the disk into a file first, e.g. qemu-img convert -O qcow2 %s disk.qcow2", fileKind(fi.Mode()), path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	format, err := sniff(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	if format == "tar" {
		if opts.Meta.Firmware != "" {
			return nil, errors.New("an archive keeps the image's own metadata; the firmware is given for disks only")
		}
		return s.importArchive(ctx, path, ref, opts.Tag != "", opts.Progress)
	}
	// The GC lock first: a conversion to raw lives in tmp/, which prune
	// empties.
	unlock, err := s.lockGC(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, cleanup, err := openDisk(ctx, s.log, path, format, s.tmpDir(), opts.Chain, opts.Progress)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	defer d.Close()
	if err := s.checkSpace(s.root, d.allocated()); err != nil {
		return nil, err
	}
	cfg, layers, err := s.pack(ctx, d, opts)
	if err != nil {
		return nil, err
	}
	cfg.apply(opts.Meta)
	if cfg.Source == "" {
		cfg.Source = filepath.Base(path)
	}
	return s.commit(ctx, ref, cfg, layers)
}

// defaultName makes an image name out of a file name: "Debian-12.qcow2"
// becomes "debian-12:latest".
func defaultName(path string) string {
	base := strings.ToLower(filepath.Base(path))
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		name = "image"
	}
	return name
}

type chunkJob struct {
	index int64
	buf   []byte
}

type chunkResult struct {
	chunk  Chunk
	size   int64  // compressed size
	staged string // temp file to rename into blobs/, "" when already stored
	zero   bool
}

// pack cuts the disk into chunks, compresses the non-zero ones in parallel
// and stages the blobs the store lacks. It returns the config (without
// metadata) and the layers, once every new blob is durable in blobs/.
func (s *Store) pack(ctx context.Context, d *disk, opts ImportOptions) (*Config, []Descriptor, error) {
	chunkSize := opts.ChunkSize
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	level := opts.Level
	if level == 0 {
		level = DefaultLevel
	}
	known := s.knownChunks()
	indexes := chunkIndexes(d.extents, chunkSize)
	total := int64(len(indexes)) * chunkSize
	workers := runtime.GOMAXPROCS(0)

	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan chunkJob, workers)
	results := make(chan chunkResult, workers)
	free := make(chan []byte, 2*workers+1)
	for range cap(free) {
		free <- make([]byte, chunkSize)
	}
	g.Go(func() error { return readChunks(gctx, d, indexes, chunkSize, free, jobs) })
	zeros := make([]byte, chunkSize)
	var workersDone errgroup.Group
	for range workers {
		workersDone.Go(func() error {
			return s.compressChunks(gctx, level, known, zeros, jobs, results, free)
		})
	}
	g.Go(func() error {
		err := workersDone.Wait()
		close(results)
		return err
	})

	chunks := collectChunks(results, total, opts.Progress)
	err := g.Wait()
	if err == nil {
		err = s.commitStaged(chunks)
	}
	if err != nil {
		for _, r := range chunks {
			if r.staged != "" {
				os.Remove(r.staged)
			}
		}
		return nil, nil, err
	}

	cfg, layers := chunkConfig(d.virtualSize, chunkSize, chunks)
	return cfg, layers, nil
}

// readChunks is pack's reader: the chunks at indexes, read in order
// (sequential I/O) into buffers from free, go to jobs.
func readChunks(ctx context.Context, d *disk, indexes []int64, chunkSize int64, free <-chan []byte, jobs chan<- chunkJob) error {
	defer close(jobs)
	for _, idx := range indexes {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		off := idx * chunkSize
		n := min(chunkSize, d.virtualSize-off)
		if err := d.readAt(buf[:n], off); err != nil {
			return fmt.Errorf("read offset %d: %w", off, err)
		}
		select {
		case jobs <- chunkJob{idx, buf[:n]}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// collectChunks gathers the workers' results, reporting progress: bytes
// done, and of them those skipped (zero, or already stored).
func collectChunks(results <-chan chunkResult, total int64, progress ProgressFunc) []chunkResult {
	var chunks []chunkResult
	var done, skipped int64
	for r := range results {
		chunks = append(chunks, r)
		done += r.chunk.Length
		if r.zero || r.staged == "" {
			skipped += r.chunk.Length
		}
		progress.report(Progress{Phase: "import", Done: done, Total: total, Skipped: skipped})
	}
	return chunks
}

// compressChunks is one of pack's workers: each chunk read into jobs is
// hashed, then found among the known chunks, or compressed and staged
// (zero chunks are neither); its buffer goes back to free.
func (s *Store) compressChunks(ctx context.Context, level zstd.EncoderLevel, known map[string]Descriptor, zeros []byte,
	jobs <-chan chunkJob, results chan<- chunkResult, free chan<- []byte) error {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	defer enc.Close()
	chunkSize := int64(len(zeros))
	var out []byte
	for job := range jobs {
		r := chunkResult{chunk: Chunk{Offset: job.index * chunkSize, Length: int64(len(job.buf))}}
		if bytes.Equal(job.buf, zeros[:len(job.buf)]) {
			r.zero = true
		} else {
			sum := sha256.Sum256(job.buf)
			r.chunk.SHA256 = hex.EncodeToString(sum[:])
			if k, ok := known[r.chunk.SHA256]; ok && s.hasBlob(k.Digest, k.Size) {
				// Stored before by another image: no need to compress.
				r.chunk.Blob, r.size = k.Digest, k.Size
			} else {
				out = enc.EncodeAll(job.buf, out[:0])
				r.chunk.Blob, r.size = digestOf(out), int64(len(out))
				if !s.hasBlob(r.chunk.Blob, r.size) {
					if r.staged, err = s.stageBlob(out); err != nil {
						return err
					}
				}
			}
		}
		free <- job.buf[:cap(job.buf)]
		select {
		case results <- r:
		case <-ctx.Done():
			if r.staged != "" {
				os.Remove(r.staged)
			}
			return ctx.Err()
		}
	}
	return nil
}

// chunkConfig is the config of a disk packed into chunks, and its layers:
// chunks in disk order, zero chunks left out (they read as zeros), each
// blob listed once however many chunks share it.
func chunkConfig(virtualSize, chunkSize int64, chunks []chunkResult) (*Config, []Descriptor) {
	cfg := &Config{VirtualSize: virtualSize, ChunkSize: chunkSize}
	sort.Slice(chunks, func(i, j int) bool { return chunks[i].chunk.Offset < chunks[j].chunk.Offset })
	var layers []Descriptor
	seen := map[string]bool{}
	for _, r := range chunks {
		if r.zero {
			continue
		}
		cfg.Chunks = append(cfg.Chunks, r.chunk)
		if !seen[r.chunk.Blob] {
			seen[r.chunk.Blob] = true
			layers = append(layers, Descriptor{MediaType: MediaTypeChunk, Digest: r.chunk.Blob, Size: r.size})
		}
	}
	return cfg, layers
}

// knownChunks maps the sha256 of every chunk the store's images have to
// its blob, so that a chunk seen before is not compressed again (rebuilds
// and re-imports share most chunks with an earlier image).
func (s *Store) knownChunks() map[string]Descriptor {
	known := map[string]Descriptor{}
	idx, err := s.loadIndex()
	if err != nil {
		return known
	}
	for _, d := range idx.Manifests {
		m, cfg, err := s.manifest(d.Digest)
		if err != nil {
			continue
		}
		sizes := map[string]int64{}
		for _, l := range m.Layers {
			sizes[l.Digest] = l.Size
		}
		for _, c := range cfg.Chunks {
			known[c.SHA256] = Descriptor{Digest: c.Blob, Size: sizes[c.Blob]}
		}
	}
	return known
}

// commitStaged makes staged blobs durable (one syncfs on Linux), then renames
// them into blobs/ and syncs the directory: one sync per import instead of
// one per blob, with the same guarantee that a blob in blobs/ is whole.
func (s *Store) commitStaged(chunks []chunkResult) error {
	var staged []chunkResult
	for _, r := range chunks {
		if r.staged != "" {
			staged = append(staged, r)
		}
	}
	if len(staged) == 0 {
		return nil
	}
	paths := make([]string, len(staged))
	for i, r := range staged {
		paths[i] = r.staged
	}
	if err := syncStaged(s.tmpDir(), paths); err != nil {
		return fmt.Errorf("sync store: %w", err)
	}
	for _, r := range staged {
		if s.hasBlob(r.chunk.Blob, r.size) { // a concurrent import stored it
			os.Remove(r.staged)
			continue
		}
		if err := os.Rename(r.staged, s.blobPath(r.chunk.Blob)); err != nil {
			return err
		}
	}
	return atomicfile.SyncDir(s.blobDir())
}

// chunkIndexes lists, in order, the chunks that overlap any extent.
func chunkIndexes(extents []extent, chunkSize int64) []int64 {
	var out []int64
	next := int64(0)
	for _, e := range extents {
		first := max(e.off/chunkSize, next)
		last := (e.off + e.len - 1) / chunkSize
		for i := first; i <= last; i++ {
			out = append(out, i)
		}
		next = max(next, last+1)
	}
	return out
}

// commit writes the config and manifest blobs and points ref at the new
// manifest in the index.
func (s *Store) commit(ctx context.Context, ref Ref, cfg *Config, layers []Descriptor) (*Image, error) {
	created := time.Now().UTC().Truncate(time.Second)
	if cfg.Created.IsZero() {
		cfg.Created = created
	}
	if cfg.OS == "" {
		cfg.OS = "linux"
	}
	if cfg.Architecture == "" {
		cfg.Architecture = runtime.GOARCH
	}
	if cfg.Chunks == nil {
		cfg.Chunks = []Chunk{}
	}
	if layers == nil {
		layers = []Descriptor{}
	}
	cdesc, err := s.putBlobSync(marshal(cfg))
	if err != nil {
		return nil, err
	}
	cdesc.MediaType = MediaTypeConfig
	m := Manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeManifest,
		ArtifactType:  ArtifactType,
		Config:        cdesc,
		Layers:        layers,
		Annotations:   manifestAnnotations(cfg),
	}
	mdesc, err := s.putBlobSync(marshal(m))
	if err != nil {
		return nil, err
	}
	mdesc.MediaType = MediaTypeManifest
	mdesc.ArtifactType = ArtifactType
	mdesc.Platform = &Platform{Architecture: cfg.Architecture, OS: cfg.OS}
	if err := s.setTag(ctx, ref, mdesc); err != nil {
		return nil, err
	}
	return s.image(ref.Name, ref.Tag, mdesc.Digest)
}

// fileKind names a file mode that is not a regular file.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeDevice != 0 && m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}
