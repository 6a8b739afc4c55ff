package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var holderRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Hold records that instance uses the image digest, so that rmi refuses to
// remove it and prune keeps it and its unpacked base.
func (s *Store) Hold(instance, digest string) error {
	if !holderRe.MatchString(instance) || !validDigest(digest) {
		return fmt.Errorf("hold %s for %s: invalid name or digest", digest, instance)
	}
	return writeFileSync(filepath.Join(s.holdDir(), instance), []byte(digest))
}

// Release drops an instance's hold.
func (s *Store) Release(instance string) error {
	err := os.Remove(filepath.Join(s.holdDir(), instance))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// holders maps each held digest to the instances that hold it.
func (s *Store) holders() (map[string][]string, error) {
	entries, err := os.ReadDir(s.holdDir())
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(s.holdDir(), e.Name()))
		if err != nil {
			continue
		}
		d := strings.TrimSpace(string(b))
		out[d] = append(out[d], e.Name())
	}
	return out, nil
}

// Removed reports what Remove did to one reference.
type Removed struct {
	Untagged string // NAME:TAG that was removed, if any
	Deleted  string // digest of the image that is gone, if it is
}

// Remove untags images (NAME:TAG) or removes them (by digest). An image
// with no tag left is deleted, and its chunks no other image uses are freed
// at once. An image that an instance uses is refused.
func (s *Store) Remove(ctx context.Context, refs []string) ([]Removed, error) {
	unlock, err := s.lockGC(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []Removed
	// Every reference is tried, and what the removed ones freed is
	// collected even when another one failed (docker rmi does the same).
	var errs []error
	for _, ref := range refs {
		img, err := s.Resolve(ref)
		if err != nil {
			errs = append(errs, fmt.Errorf("rmi %s: %w", ref, err))
			continue
		}
		r, _ := ParseRef(ref)
		var rm []Removed
		err = s.updateIndex(ctx, func(idx *Index) error {
			rm = nil
			holds, err := s.holders()
			if err != nil {
				return err
			}
			var kept []Descriptor
			left := 0
			for _, d := range idx.Manifests {
				if d.Digest != img.Digest {
					kept = append(kept, d)
					continue
				}
				if r.Digest == "" && refName(d) != r.Name+":"+r.Tag {
					kept = append(kept, d)
					left++
					continue
				}
				if refName(d) != "" {
					rm = append(rm, Removed{Untagged: refName(d)})
				}
			}
			if left == 0 {
				if h := holds[img.Digest]; len(h) > 0 {
					return fmt.Errorf("image %s is used by instance %s: delete the instance first", ref, strings.Join(h, ", "))
				}
				rm = append(rm, Removed{Deleted: img.Digest})
			}
			idx.Manifests = kept
			if idx.Manifests == nil {
				idx.Manifests = []Descriptor{}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("rmi %s: %w", ref, err))
			continue
		}
		out = append(out, rm...)
	}
	if _, err := s.collect(ctx); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}
