package images

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// DefaultTag is the tag of a name given without one.
const DefaultTag = "latest"

var (
	nameRe   = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRe    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRe = regexp.MustCompile(`^(sha256:)?([0-9a-f]{12,64})$`)
)

// Ref is a parsed local image reference: NAME:TAG, or a digest (or a unique
// prefix of one).
type Ref struct {
	Name, Tag string
	Digest    string // "sha256:<hex>" or a prefix of one; set instead of Name
}

func (r Ref) String() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Name + ":" + r.Tag
}

// ErrInvalidReference marks a reference that is not well-formed (a usage
// error, unlike a well-formed one that names no image).
var ErrInvalidReference = errors.New("invalid reference")

// ParseRef parses NAME[:TAG] or sha256:<hex> (12 or more hex digits). A
// bare hex word parses as a name; Resolve also tries it as a digest prefix.
func ParseRef(s string) (Ref, error) {
	if m := digestRe.FindStringSubmatch(s); m != nil && m[1] != "" {
		return Ref{Digest: "sha256:" + m[2]}, nil
	}
	if strings.HasPrefix(s, "sha256:") {
		return Ref{}, fmt.Errorf("%w: digest %q: sha256: needs 12 to 64 lower-case hex digits", ErrInvalidReference, s)
	}
	name, tag := s, DefaultTag
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		name, tag = s[:i], s[i+1:]
	}
	if !nameRe.MatchString(name) {
		return Ref{}, fmt.Errorf("%w: image name %q: use lower-case letters, digits, '.', '_', '-' and '/'", ErrInvalidReference, name)
	}
	if !tagRe.MatchString(tag) {
		return Ref{}, fmt.Errorf("%w: tag %q in %q", ErrInvalidReference, tag, s)
	}
	return Ref{Name: name, Tag: tag}, nil
}

// ShortDigest is the first 12 hex digits of a digest, as docker prints IDs.
func ShortDigest(d string) string {
	h := strings.TrimPrefix(d, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}
