package images

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// writeArchive writes an image as an OCI image-layout tar: oci-layout,
// index.json naming the image, and its blobs.
func (s *Store) writeArchive(ctx context.Context, img *Image, out io.Writer, progress ProgressFunc) error {
	m, _, err := s.manifest(img.Digest)
	if err != nil {
		return err
	}
	desc := Descriptor{MediaType: MediaTypeManifest, ArtifactType: ArtifactType, Digest: img.Digest}
	blobs := []string{img.Digest, m.Config.Digest}
	for _, l := range m.Layers {
		blobs = append(blobs, l.Digest)
	}
	if fi, err := os.Stat(s.blobPath(img.Digest)); err == nil {
		desc.Size = fi.Size()
	}
	if img.Name != "" {
		desc.Annotations = map[string]string{AnnotationRefName: img.Name + ":" + img.Tag}
	}
	index := marshal(Index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: []Descriptor{desc}})
	tw := tar.NewWriter(out)
	mtime := img.Created
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := put("index.json", index); err != nil {
		return err
	}
	written := map[string]bool{}
	var done int64
	for _, d := range blobs {
		if written[d] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		written[d] = true
		b, err := s.readBlob(d)
		if err != nil {
			return fmt.Errorf("%s: %w", img.Ref(), err)
		}
		if err := put("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), b); err != nil {
			return err
		}
		done += int64(len(b))
		progress.report(Progress{Phase: "export", Done: done, Total: img.Size})
	}
	return tw.Close()
}

// importArchive reads an archive written by Export. Every entry is checked
// before anything becomes visible in the store: only oci-layout, index.json
// and blobs/sha256/<hex> are allowed (no paths elsewhere, no links), every
// blob must hash to its name, and every blob an image needs must be there.
func (s *Store) importArchive(ctx context.Context, path string, tag Ref, retag bool, progress ProgressFunc) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := s.checkSpace(s.root, fi.Size()); err != nil {
		return nil, err
	}
	unlock, err := s.lockGC(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()

	staged := map[string]string{} // digest -> temp file
	defer func() {
		for _, p := range staged {
			os.Remove(p)
		}
	}()
	idx, err := s.stageArchive(ctx, f, fi.Size(), staged, progress)
	if err != nil {
		return nil, err
	}
	if retag && len(idx.Manifests) != 1 {
		return nil, fmt.Errorf("the archive holds %d images, and one tag was given for them", len(idx.Manifests))
	}
	have := func(d string) bool { _, ok := staged[d]; return ok || s.hasBlob(d, -1) }
	for _, d := range idx.Manifests {
		if err := s.checkArchiveImage(d.Digest, staged, have); err != nil {
			return nil, err
		}
	}
	refs, err := archiveRefs(idx, tag, retag)
	if err != nil {
		return nil, err
	}
	var results []chunkResult
	for d, p := range staged {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		results = append(results, chunkResult{chunk: Chunk{Blob: d}, size: fi.Size(), staged: p})
	}
	if err := s.commitStaged(results); err != nil {
		return nil, err
	}
	clear(staged)
	var img *Image
	for i, d := range idx.Manifests {
		r := refs[i]
		desc := Descriptor{MediaType: MediaTypeManifest, ArtifactType: ArtifactType, Digest: d.Digest, Size: d.Size}
		if err := s.setTag(ctx, r, desc); err != nil {
			return nil, err
		}
		if img, err = s.image(r.Name, r.Tag, d.Digest); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// stageArchive reads an archive's entries: each blob into a temporary file
// recorded in staged (by digest), and its index. Nothing is committed.
func (s *Store) stageArchive(ctx context.Context, f io.Reader, total int64, staged map[string]string, progress ProgressFunc) (*Index, error) {
	var index []byte
	tr := tar.NewReader(f)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case h.Typeflag == tar.TypeDir && (name == "blobs/" || name == "blobs/sha256/"):
			continue
		case h.Typeflag != tar.TypeReg:
			return nil, fmt.Errorf("archive entry %q is not a regular file", h.Name)
		case name == "oci-layout":
			continue
		case name == "index.json":
			if index, err = io.ReadAll(io.LimitReader(tr, 1<<20)); err != nil {
				return nil, err
			}
			continue
		}
		digest, err := checkArchiveEntry(h, name, staged)
		if err != nil {
			return nil, err
		}
		if err := s.checkSpace(s.root, h.Size); err != nil {
			return nil, err
		}
		tmp, err := s.stageStream(io.LimitReader(tr, h.Size), digest)
		if err != nil {
			return nil, err
		}
		staged[digest] = tmp
		done += h.Size
		progress.report(Progress{Phase: "import", Done: done, Total: total})
	}
	if index == nil {
		return nil, fmt.Errorf("not a clawimg archive: no index.json")
	}
	var idx Index
	if err := json.Unmarshal(index, &idx); err != nil || len(idx.Manifests) == 0 {
		return nil, fmt.Errorf("not a clawimg archive: bad index.json")
	}
	return &idx, nil
}

// checkArchiveEntry returns the digest a blob entry is named after. What an
// entry says it holds is checked before a byte of it is written: a sparse
// entry expands (a few KiB of archive can stand for GiBs), no blob of ours
// is larger than maxArchiveBlob, and each comes once.
func checkArchiveEntry(h *tar.Header, name string, staged map[string]string) (string, error) {
	hexd, ok := strings.CutPrefix(name, "blobs/sha256/")
	if !ok || !validDigest("sha256:"+hexd) {
		return "", fmt.Errorf("archive entry %q is not part of an image layout", h.Name)
	}
	digest := "sha256:" + hexd
	switch {
	case sparseEntry(h):
		return "", fmt.Errorf("archive entry %q is a sparse file: clawimg archives hold none", h.Name)
	case h.Size < 0 || h.Size > maxArchiveBlob:
		return "", fmt.Errorf("archive entry %q is %s: larger than any blob of an image", h.Name, HumanBytes(h.Size))
	case staged[digest] != "":
		return "", fmt.Errorf("archive entry %q appears twice", h.Name)
	}
	return digest, nil
}

// archiveRefs names the archive's images: the one tag given with -t
// (retag), else the names the archive records (tag's name when it records
// none). Every name is checked before anything is committed.
func archiveRefs(idx *Index, tag Ref, retag bool) ([]Ref, error) {
	refs := make([]Ref, len(idx.Manifests))
	for i, d := range idx.Manifests {
		refs[i] = tag
		if retag {
			continue
		}
		name, t := splitRefName(refName(d))
		if name == "" {
			name, t = tag.Name, tag.Tag
		}
		var err error
		if refs[i], err = ParseRef(name + ":" + t); err != nil {
			return nil, fmt.Errorf("archive names an invalid image: %w", err)
		}
	}
	return refs, nil
}

// maxArchiveBlob bounds one blob of an archive: chunks are at most a
// chunk's size compressed, and a config lists 64 bytes or so per chunk.
const maxArchiveBlob = 256 << 20

// sparseEntry reports whether a tar entry is a sparse file (GNU or PAX),
// whose holes the reader expands.
func sparseEntry(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// checkArchiveImage checks that a manifest from an archive and everything
// it names is present.
func (s *Store) checkArchiveImage(digest string, staged map[string]string, have func(string) bool) error {
	read := func(d string) ([]byte, error) {
		if p, ok := staged[d]; ok {
			return os.ReadFile(p)
		}
		return s.readBlob(d)
	}
	if !validDigest(digest) || !have(digest) {
		return fmt.Errorf("archive lacks manifest %s", digest)
	}
	b, err := read(digest)
	if err != nil {
		return err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Config.MediaType != MediaTypeConfig {
		return fmt.Errorf("manifest %s is not a clawimg disk image", digest)
	}
	for _, l := range append([]Descriptor{m.Config}, m.Layers...) {
		if !validDigest(l.Digest) || !have(l.Digest) {
			return fmt.Errorf("archive lacks blob %s of manifest %s", l.Digest, digest)
		}
	}
	cb, err := read(m.Config.Digest)
	if err != nil {
		return err
	}
	_, err = decodeConfig(&m, cb)
	return err
}

// checkConfig checks a stored config against its bounds and its manifest.
func (s *Store) checkConfig(m *Manifest) error {
	cb, err := s.readBlob(m.Config.Digest)
	if err != nil {
		return err
	}
	_, err = decodeConfig(m, cb)
	return err
}

// decodeConfig decodes a config blob and checks it against its bounds and
// its manifest (every chunk's blob one of the manifest's layers): the one
// way a config is read, from the store, an archive or a registry.
func decodeConfig(m *Manifest, cb []byte) (*Config, error) {
	var cfg Config
	if err := json.Unmarshal(cb, &cfg); err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	if !coveredBy(cfg.Chunks, m.Layers) {
		return nil, fmt.Errorf("config %s names chunks its manifest does not", m.Config.Digest)
	}
	return &cfg, nil
}

// stageStream copies r into a staged blob, checking it hashes to digest.
func (s *Store) stageStream(r io.Reader, digest string) (string, error) {
	f, err := os.CreateTemp(s.tmpDir(), "blob-*")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
			err = fmt.Errorf("blob %s in the archive does not match its digest (content hashes to %s)", digest, got)
		}
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
