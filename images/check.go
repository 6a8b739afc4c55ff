package images

import "fmt"

// CheckReport is a quick integrity summary of the store.
type CheckReport struct {
	Images  int
	Blobs   int
	Bytes   int64
	Problem []string // one line per damaged image
}

// Check confirms, without re-hashing chunks (image verify does that), that
// every image's manifest and config read and verify and that every chunk
// blob is present with its size.
func (s *Store) Check() (*CheckReport, error) {
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{}
	seen := map[string]bool{}
	for _, img := range list {
		rep.Images++
		m, _, err := s.manifest(img.Digest)
		if err != nil {
			rep.Problem = append(rep.Problem, fmt.Sprintf("%s: %v", img.Ref(), err))
			continue
		}
		for _, l := range m.Layers {
			if !s.hasBlob(l.Digest, l.Size) {
				rep.Problem = append(rep.Problem, fmt.Sprintf("%s: chunk blob %s is missing or truncated", img.Ref(), l.Digest))
				break
			}
			if !seen[l.Digest] {
				seen[l.Digest] = true
				rep.Blobs++
				rep.Bytes += l.Size
			}
		}
	}
	return rep, nil
}
