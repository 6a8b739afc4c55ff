package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Image is one tagged (or untagged) image of the store.
type Image struct {
	Name        string    `json:"name"`
	Tag         string    `json:"tag"`
	Digest      string    `json:"digest"`
	Size        int64     `json:"size"` // compressed bytes: manifest, config and chunks
	VirtualSize int64     `json:"virtual_size"`
	Created     time.Time `json:"created"`
	RecipeHash  string    `json:"recipe_hash"`
	// Broken says why the image cannot be read (a corrupt or missing
	// manifest or config blob); empty for a sound image.
	Broken string `json:"broken,omitempty"`
}

// Ref is NAME:TAG, or the digest of an untagged image.
func (i Image) Ref() string {
	if i.Name == "" {
		return i.Digest
	}
	return i.Name + ":" + i.Tag
}

func (s *Store) loadIndex() (*Index, error) {
	b, err := os.ReadFile(s.indexPath())
	if errors.Is(err, os.ErrNotExist) {
		return &Index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: []Descriptor{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.indexPath(), err)
	}
	return &idx, nil
}

// saveIndex replaces index.json atomically; callers hold the index lock.
func (s *Store) saveIndex(idx *Index) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return s.writeIndexFile(s.indexPath(), b)
}

// updateIndex runs fn on the index under the index lock and saves it.
func (s *Store) updateIndex(ctx context.Context, fn func(*Index) error) error {
	unlock, err := s.lockIndex(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.loadIndex()
	if err != nil {
		return err
	}
	if err := fn(idx); err != nil {
		return err
	}
	return s.saveIndex(idx)
}

func refName(d Descriptor) string { return d.Annotations[AnnotationRefName] }

// setTag points NAME:TAG at desc. The manifest it pointed at before stays in
// the index, untagged, until prune (as docker's dangling images).
func (s *Store) setTag(ctx context.Context, ref Ref, desc Descriptor) error {
	name := ref.Name + ":" + ref.Tag
	return s.updateIndex(ctx, func(idx *Index) error {
		var kept []Descriptor
		for _, d := range idx.Manifests {
			if refName(d) == name {
				if d.Digest == desc.Digest {
					return nil // already so
				}
				d.Annotations = nil // the old image becomes untagged
			}
			if refName(d) == "" && d.Digest == desc.Digest {
				continue // the new one is no longer untagged
			}
			kept = append(kept, d)
		}
		desc.Annotations = map[string]string{AnnotationRefName: name}
		idx.Manifests = dedupUntagged(append(kept, desc))
		return nil
	})
}

// dedupUntagged drops untagged entries for manifests that are tagged or
// listed twice.
func dedupUntagged(ds []Descriptor) []Descriptor {
	tagged := map[string]bool{}
	for _, d := range ds {
		if refName(d) != "" {
			tagged[d.Digest] = true
		}
	}
	var out []Descriptor
	seen := map[string]bool{}
	for _, d := range ds {
		if refName(d) == "" && (tagged[d.Digest] || seen[d.Digest]) {
			continue
		}
		seen[d.Digest] = true
		out = append(out, d)
	}
	return out
}

// List returns every image, tagged ones sorted by name and tag, then the
// untagged ones.
func (s *Store) List() ([]Image, error) {
	idx, err := s.loadIndex()
	if err != nil {
		return nil, err
	}
	out := []Image{}
	for _, d := range idx.Manifests {
		name, tag := splitRefName(refName(d))
		img, err := s.image(name, tag, d.Digest)
		if err != nil {
			return nil, err
		}
		out = append(out, *img)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Name == "") != (out[j].Name == "") {
			return out[j].Name == ""
		}
		return out[i].Ref() < out[j].Ref()
	})
	return out, nil
}

func splitRefName(n string) (string, string) {
	if n == "" {
		return "", ""
	}
	i := strings.LastIndex(n, ":")
	return n[:i], n[i+1:]
}

// image reads an image's manifest and config. A damaged image is still an
// image, marked Broken, so that list shows it and rmi can remove it; what
// needs its content (launch, export, verify, push) reads it again and
// fails with the reason.
func (s *Store) image(name, tag, digest string) (*Image, error) {
	m, cfg, err := s.manifest(digest)
	if err != nil {
		return &Image{Name: name, Tag: tag, Digest: digest, Broken: err.Error()}, nil
	}
	size := m.Config.Size
	if b, err := os.Stat(s.blobPath(digest)); err == nil {
		size += b.Size()
	}
	for _, l := range m.Layers {
		size += l.Size
	}
	return &Image{
		Name: name, Tag: tag, Digest: digest, Size: size,
		VirtualSize: cfg.VirtualSize, Created: cfg.Created, RecipeHash: cfg.RecipeHash,
	}, nil
}

// manifestOnly reads and checks a manifest blob, without its config.
func (s *Store) manifestOnly(digest string) (*Manifest, error) {
	b, err := s.readBlob(digest)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", digest, err)
	}
	return &m, nil
}

// manifest reads and checks an image's manifest and config blobs.
func (s *Store) manifest(digest string) (*Manifest, *Config, error) {
	m, err := s.manifestOnly(digest)
	if err != nil {
		return nil, nil, err
	}
	cb, err := s.readBlob(m.Config.Digest)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := decodeConfig(m, cb)
	if err != nil {
		return nil, nil, err
	}
	return m, cfg, nil
}

var bareHex = regexp.MustCompile(`^[0-9a-f]{12,64}$`)

// ErrNotFound is returned for a reference that names no image.
var ErrNotFound = errors.New("no such image")

// Resolve finds the image a reference names: NAME[:TAG], a digest, or a
// unique prefix of 12 or more hex digits.
func (s *Store) Resolve(ref string) (*Image, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	idx, err := s.loadIndex()
	if err != nil {
		return nil, err
	}
	if r.Digest == "" {
		for _, d := range idx.Manifests {
			if refName(d) == r.Name+":"+r.Tag {
				return s.image(r.Name, r.Tag, d.Digest)
			}
		}
		// A bare hex word that names no image may be a digest prefix, as
		// docker accepts IDs.
		if !bareHex.MatchString(ref) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, r)
		}
		r = Ref{Digest: "sha256:" + ref}
	}
	var match *Descriptor
	for i, d := range idx.Manifests {
		if !strings.HasPrefix(d.Digest, r.Digest) {
			continue
		}
		if match != nil && match.Digest != d.Digest {
			return nil, fmt.Errorf("digest prefix %s is ambiguous: it matches %s and %s", ref, ShortDigest(match.Digest), ShortDigest(d.Digest))
		}
		if match == nil || (refName(*match) == "" && refName(d) != "") {
			match = &idx.Manifests[i]
		}
	}
	if match == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	name, tag := splitRefName(refName(*match))
	return s.image(name, tag, match.Digest)
}

// Tag gives the image src the name dst.
func (s *Store) Tag(ctx context.Context, src, dst string) (*Image, error) {
	img, err := s.Resolve(src)
	if err != nil {
		return nil, fmt.Errorf("tag %s: %w", src, err)
	}
	r, err := ParseRef(dst)
	if err != nil {
		return nil, fmt.Errorf("tag %s: %w", dst, err)
	}
	if r.Digest != "" {
		return nil, fmt.Errorf("tag %s: a digest cannot be a tag", dst)
	}
	idx, err := s.loadIndex()
	if err != nil {
		return nil, err
	}
	var desc Descriptor
	for _, d := range idx.Manifests {
		if d.Digest == img.Digest {
			desc = d
		}
	}
	if err := s.setTag(ctx, r, desc); err != nil {
		return nil, fmt.Errorf("tag %s: %w", dst, err)
	}
	return s.image(r.Name, r.Tag, img.Digest)
}
