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
	domainRe = regexp.MustCompile(`^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]{1,5})?$`)
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
	path := name
	if domain, rest, ok := registryDomain(name); ok {
		if !domainRe.MatchString(domain) {
			return Ref{}, fmt.Errorf("%w: registry %q in %q", ErrInvalidReference, domain, s)
		}
		path = rest
	}
	if !nameRe.MatchString(path) {
		return Ref{}, fmt.Errorf("%w: image name %q: use lower-case letters, digits, '.', '_', '-' and '/' (after an optional registry host[:port]/)", ErrInvalidReference, name)
	}
	if !tagRe.MatchString(tag) {
		return Ref{}, fmt.Errorf("%w: tag %q in %q", ErrInvalidReference, tag, s)
	}
	return Ref{Name: name, Tag: tag}, nil
}

// registryDomain splits a registry host off a name the way Docker does:
// the first path element is a host when it has a '.' or a ':' or is
// localhost (team/app is a name, localhost:5000/app and ghcr.io/a/b
// are in a registry).
func registryDomain(name string) (domain, rest string, ok bool) {
	first, rest, found := strings.Cut(name, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return "", name, false
	}
	return first, rest, true
}

// IsRemote reports whether ref names an image in a registry
// (host[:port]/repo...), which launch and warm pull when the store lacks
// it, and push takes as its own destination.
func IsRemote(ref string) bool {
	if strings.HasPrefix(ref, "sha256:") {
		return false
	}
	_, _, ok := registryDomain(ref)
	return ok
}

// ShortDigest is the first 12 hex digits of a digest, as docker prints IDs.
func ShortDigest(d string) string {
	h := strings.TrimPrefix(d, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}
