package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"
)

// ChunkError says which chunk of which image is bad.
type ChunkError struct {
	Image  string
	Index  int
	Offset int64
	Blob   string
	Err    error
}

func (e *ChunkError) Error() string {
	return fmt.Sprintf("%s: chunk %d at offset %d (blob %s): %v", e.Image, e.Index, e.Offset, e.Blob, e.Err)
}

func (e *ChunkError) Unwrap() error { return e.Err }

// eachChunk reads, decompresses and checks every chunk of an image in
// parallel, and hands each verified chunk to fn (which must be safe for
// concurrent use). The first bad chunk, in disk order, is the error.
func (s *Store) eachChunk(ctx context.Context, img *Image, phase string, progress ProgressFunc, fn func(Chunk, []byte) error) error {
	_, cfg, err := s.manifest(img.Digest)
	if err != nil {
		return fmt.Errorf("%s: %w", img.Ref(), err)
	}
	return s.eachChunkOf(ctx, img.Ref(), cfg.Chunks, cfg.ChunkSize, phase, progress, fn)
}

// eachChunkOf is eachChunk over any list of chunks (an image's disk, or a
// part of a warm state); what names them in errors.
func (s *Store) eachChunkOf(ctx context.Context, what string, chunks []Chunk, chunkSize int64, phase string, progress ProgressFunc, fn func(Chunk, []byte) error) error {
	var total int64
	for _, c := range chunks {
		total += c.Length
	}
	var done atomic.Int64
	next := atomic.Int64{}
	errs := make([]error, len(chunks))
	g, gctx := errgroup.WithContext(ctx)
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(min(chunkSize, MaxChunkSize))+1<<20))
			if err != nil {
				return err
			}
			defer dec.Close()
			var buf []byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) || gctx.Err() != nil {
					return gctx.Err()
				}
				c := chunks[i]
				buf, err = s.readChunk(dec, c, buf)
				if err == nil {
					err = fn(c, buf)
				}
				if err != nil {
					errs[i] = &ChunkError{Image: what, Index: i, Offset: c.Offset, Blob: c.Blob, Err: err}
					return errs[i]
				}
				progress.report(Progress{Phase: phase, Done: done.Add(c.Length), Total: total})
			}
		})
	}
	gerr := g.Wait()
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return gerr
}

// readChunk reads one chunk's blob and returns its verified bytes.
func (s *Store) readChunk(dec *zstd.Decoder, c Chunk, buf []byte) ([]byte, error) {
	blob, err := s.readBlob(c.Blob)
	if err != nil {
		return nil, err
	}
	out, err := dec.DecodeAll(blob, buf[:0])
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	if int64(len(out)) != c.Length {
		return nil, fmt.Errorf("decompressed to %d bytes, want %d", len(out), c.Length)
	}
	if sum := sha256.Sum256(out); hex.EncodeToString(sum[:]) != c.SHA256 {
		return nil, fmt.Errorf("content does not match its sha256 %s", c.SHA256)
	}
	return out, nil
}

// Verify re-reads and re-hashes every chunk of an image.
func (s *Store) Verify(ctx context.Context, ref string, progress ProgressFunc) (*Image, error) {
	img, err := s.Resolve(ref)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", ref, err)
	}
	err = s.eachChunk(ctx, img, "verify", progress, func(Chunk, []byte) error { return nil })
	if err != nil {
		return img, fmt.Errorf("verify: %w", err)
	}
	// Its warm states are part of it.
	states, err := s.WarmStates(img.Digest)
	if err != nil {
		return img, fmt.Errorf("verify: %w", err)
	}
	for i := range states {
		if err := s.VerifyWarm(ctx, &states[i], progress); err != nil {
			return img, err
		}
	}
	return img, nil
}

// unpackTo writes an image as a sparse raw disk into f: holes and zero
// chunks are never written, so they stay holes.
func (s *Store) unpackTo(ctx context.Context, img *Image, f *os.File, phase string, progress ProgressFunc) error {
	if err := f.Truncate(img.VirtualSize); err != nil {
		return err
	}
	return s.eachChunk(ctx, img, phase, progress, func(c Chunk, b []byte) error {
		return writeSparse(f, b, c.Offset)
	})
}

// sparseBlock is the granularity at which zeros inside a chunk are left
// as holes: the file system's block size.
const sparseBlock = 4096

// writeSparse writes b at off, skipping runs of zero blocks so they stay
// holes in a file that was created empty.
func writeSparse(f *os.File, b []byte, off int64) error {
	var zero [sparseBlock]byte
	start := -1 // start of the pending run of data blocks
	for i := 0; i < len(b); i += sparseBlock {
		end := min(i+sparseBlock, len(b))
		if bytes.Equal(b[i:end], zero[:end-i]) {
			if start >= 0 {
				if _, err := f.WriteAt(b[start:i], off+int64(start)); err != nil {
					return err
				}
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		_, err := f.WriteAt(b[start:], off+int64(start))
		return err
	}
	return nil
}

// dataSize is the number of bytes an unpacked image occupies on disk.
func (s *Store) dataSize(img *Image) (int64, error) {
	_, cfg, err := s.manifest(img.Digest)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, c := range cfg.Chunks {
		n += c.Length
	}
	return n, nil
}
