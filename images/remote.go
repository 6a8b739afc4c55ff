package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/clawimg/clawimg/internal/atomicfile"
)

// RemoteOptions say how to reach a registry.
type RemoteOptions struct {
	// Insecure allows plain HTTP to a registry that is not on loopback.
	Insecure bool
	// Keychain finds credentials; nil means the Docker config and its
	// credential helpers (what `docker login` wrote).
	Keychain authn.Keychain
	// Jobs bounds parallel blob transfers (default 4).
	Jobs     int
	Progress ProgressFunc
	// Transport is the HTTP transport (tests); nil means the default.
	Transport http.RoundTripper
	// Timeout is how long the registry may stay silent, before it answers
	// or in the middle of a transfer; 0 means DefaultRegistryTimeout.
	Timeout time.Duration
}

func (o RemoteOptions) jobs() int {
	if o.Jobs > 0 {
		return o.Jobs
	}
	return 4
}

func (o RemoteOptions) parse(ref string) (name.Reference, error) {
	var opts []name.Option
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidReference, err)
	}
	return r, nil
}

// guard refuses plain HTTP except to loopback addresses or when allowed:
// go-containerregistry would also speak HTTP to private networks.
type guard struct {
	next     http.RoundTripper
	insecure bool
}

func (g guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.insecure && !loopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("%w to %s", ErrPlainHTTP, req.URL.Host)
	}
	return g.next.RoundTrip(req)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// client returns remote options and an authenticated HTTP client for repo.
func (o RemoteOptions) client(ctx context.Context, repo name.Repository, scope string) ([]remote.Option, *http.Client, error) {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	auth, err := kc.Resolve(repo)
	if err != nil {
		return nil, nil, fmt.Errorf("credentials for %s: %w", repo.RegistryStr(), err)
	}
	rt, c, err := o.httpClient(ctx, repo.Registry, auth, []string{repo.Scope(scope)})
	if err != nil {
		return nil, nil, err
	}
	opts := []remote.Option{remote.WithAuth(auth), remote.WithTransport(rt), remote.WithContext(ctx)}
	return opts, c, nil
}

// httpClient returns the guarded base transport and a client that
// authenticates to reg with auth (registry token dance included).
func (o RemoteOptions) httpClient(ctx context.Context, reg name.Registry, auth authn.Authenticator, scopes []string) (http.RoundTripper, *http.Client, error) {
	base := o.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultRegistryTimeout
	}
	rt := guard{next: watchdog{next: base, timeout: timeout}, insecure: o.Insecure}
	tr, err := transport.NewWithContext(ctx, reg, auth, rt, scopes)
	if err != nil {
		return nil, nil, registryError(err)
	}
	return rt, &http.Client{Transport: tr}, nil
}

// Errors a user can act on; the CLI says how.
var (
	// ErrPlainHTTP is plain HTTP to a registry that is not on loopback,
	// refused unless RemoteOptions.Insecure.
	ErrPlainHTTP = errors.New("refusing plain HTTP")
	// ErrCredentialsRefused is a registry's 401 or 403.
	ErrCredentialsRefused = errors.New("registry refused the credentials")
)

// credentialsRefused is the one message for a 401 or 403, whoever got it.
func credentialsRefused(status int) error {
	return fmt.Errorf("%w (%d)", ErrCredentialsRefused, status)
}

// registryError shortens go-containerregistry's errors to one line.
func registryError(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return credentialsRefused(te.StatusCode)
		case http.StatusNotFound:
			return fmt.Errorf("not found in the registry: %s", strings.TrimSpace(firstLine([]byte(te.Error()), err)))
		}
	}
	return oneLineError{msg: strings.Join(strings.Fields(err.Error()), " "), err: err}
}

// oneLineError is an error's message on one line; errors.Is still sees
// what it wraps (ErrPlainHTTP, a context's end).
type oneLineError struct {
	msg string
	err error
}

func (e oneLineError) Error() string { return e.msg }
func (e oneLineError) Unwrap() error { return e.err }

// blobLayer is a stored blob seen as a layer, for uploads.
type blobLayer struct {
	s    *Store
	desc Descriptor
	sent *atomic.Int64
	o    RemoteOptions
	all  int64
}

func (l *blobLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.desc.Digest) }
func (l *blobLayer) DiffID() (v1.Hash, error) { return v1.NewHash(l.desc.Digest) }
func (l *blobLayer) Size() (int64, error)     { return l.desc.Size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.desc.MediaType), nil
}
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("clawimg chunks are only sent compressed")
}
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	f, err := os.Open(l.s.blobPath(l.desc.Digest))
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: f, n: l.sent, report: func(n int64) {
		l.o.Progress.report(Progress{Phase: "push", Done: n, Total: l.all})
	}}, nil
}

type countingReader struct {
	io.ReadCloser
	n      *atomic.Int64
	report func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.report(c.n.Add(int64(n)))
	return n, err
}

// rawManifest is a manifest or index pushed byte for byte.
type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// PushReport says what a push moved. Blobs and Pushed count chunks; the
// bytes include the config.
type PushReport struct {
	Ref          string
	Digest       string
	Blobs        int
	Pushed       int
	PushedBytes  int64
	PresentBytes int64
	WarmStates   int // warm states pushed with the image
}

// pushBlobs uploads the blobs the registry lacks, several at once, and
// counts them in rep (chunks; a config goes along uncounted).
func (s *Store) pushBlobs(ctx context.Context, client *http.Client, repo name.Repository, opts []remote.Option, blobs []Descriptor, o RemoteOptions, rep *PushReport) error {
	// Ask which blobs the registry has, jobs() at a time (a HEAD each),
	// reporting them as the "check" phase.
	states := make([]blobState, len(blobs))
	var checked atomic.Int64
	cg, cctx := errgroup.WithContext(ctx)
	cg.SetLimit(o.jobs() * 2)
	for i, b := range blobs {
		cg.Go(func() error {
			st, err := checkBlob(cctx, client, repo, b.Digest)
			states[i] = st
			o.Progress.report(Progress{Phase: "check", Done: checked.Add(1), Total: int64(len(blobs)), Items: true})
			return err
		})
	}
	if err := cg.Wait(); err != nil {
		return err
	}
	var missing []Descriptor
	unsure := map[string]bool{} // blobs the registry could not say it has
	var total int64
	for i, b := range blobs {
		st := states[i]
		if i > 0 { // the report counts chunks; the config goes along
			rep.Blobs++
		}
		if st == blobPresent {
			rep.PresentBytes += b.Size
			continue
		}
		unsure[b.Digest] = st == blobUnknown
		missing = append(missing, b)
		total += b.Size
		if i > 0 {
			rep.Pushed++
		}
	}
	var sent atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs())
	for _, b := range missing {
		g.Go(func() error {
			if _, err := s.readBlob(b.Digest); err != nil { // never send a damaged blob
				return err
			}
			l := &blobLayer{s: s, desc: b, sent: &sent, o: o, all: total}
			var err error
			if unsure[b.Digest] {
				err = uploadBlob(gctx, client, repo, l)
			} else {
				err = remote.WriteLayer(repo, l, append(opts, remote.WithContext(gctx))...)
			}
			if err != nil {
				return fmt.Errorf("upload %s: %w", b.Digest, registryError(err))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	rep.PushedBytes += total
	return nil
}

// Push uploads an image to a registry: the blobs the registry lacks
// (several at once), then the manifest, then an index at the tag that keeps
// the other architectures already there.
func (s *Store) Push(ctx context.Context, local, ref string, o RemoteOptions) (*PushReport, error) {
	rep, err := s.push(ctx, local, ref, o)
	if err != nil {
		return rep, fmt.Errorf("push %s: %w", ref, err)
	}
	return rep, nil
}

func (s *Store) push(ctx context.Context, local, ref string, o RemoteOptions) (*PushReport, error) {
	img, err := s.Resolve(local)
	if err != nil {
		return nil, err
	}
	r, err := o.parse(ref)
	if err != nil {
		return nil, err
	}
	m, cfg, err := s.manifest(img.Digest)
	if err != nil {
		return nil, err
	}
	raw, err := s.readBlob(img.Digest)
	if err != nil {
		return nil, err
	}
	opts, client, err := o.client(ctx, r.Context(), transport.PushScope)
	if err != nil {
		return nil, err
	}
	rep := &PushReport{Ref: r.String(), Digest: img.Digest}
	if err := s.pushBlobs(ctx, client, r.Context(), opts, append([]Descriptor{m.Config}, m.Layers...), o, rep); err != nil {
		return rep, err
	}
	if err := remote.Put(r.Context().Digest(img.Digest), rawManifest{raw, types.OCIManifestSchema1}, opts...); err != nil {
		return rep, registryError(err)
	}
	// The image's warm states go along: their blobs the registry lacks,
	// their manifests, and entries in the tag's index.
	states, err := s.WarmStates(img.Digest)
	if err != nil {
		return rep, err
	}
	var warm []Descriptor
	for _, st := range states {
		wm, wraw, err := s.warmManifest(st.Digest)
		if err != nil {
			return rep, err
		}
		if err := s.pushBlobs(ctx, client, r.Context(), opts, append([]Descriptor{wm.Config}, wm.Layers...), o, rep); err != nil {
			return rep, err
		}
		if err := remote.Put(r.Context().Digest(st.Digest), rawManifest{wraw, types.OCIManifestSchema1}, opts...); err != nil {
			return rep, registryError(err)
		}
		warm = append(warm, Descriptor{MediaType: MediaTypeManifest, ArtifactType: WarmArtifactType, Digest: st.Digest,
			Size: int64(len(wraw)), Annotations: map[string]string{AnnotationWarmImage: img.Digest}})
		rep.WarmStates++
	}
	if _, isTag := r.(name.Tag); isTag {
		index, err := mergeIndex(r, img.Digest, int64(len(raw)), cfg.Architecture, cfg.OS, warm, opts)
		if err != nil {
			return rep, err
		}
		if err := remote.Put(r, rawManifest{index, types.OCIImageIndex}, opts...); err != nil {
			return rep, registryError(err)
		}
	}
	return rep, nil
}

// mergeIndex builds the index for a tag: what it held for other
// platforms, plus this image for its own.
// Warm states are entries without a platform, annotated with their
// image's digest; they stay only as long as their image does.
func mergeIndex(tag name.Reference, digest string, size int64, arch, os string, warm []Descriptor, opts []remote.Option) ([]byte, error) {
	ours := Descriptor{MediaType: MediaTypeManifest, ArtifactType: ArtifactType, Digest: digest, Size: size,
		Platform: &Platform{Architecture: arch, OS: os}}
	idx := Index{SchemaVersion: 2, MediaType: MediaTypeIndex}
	var oldWarm []Descriptor
	kept := map[string]bool{digest: true}
	if desc, err := remote.Get(tag, opts...); err == nil && desc.MediaType == types.OCIImageIndex {
		var old Index
		if json.Unmarshal(desc.Manifest, &old) == nil {
			for _, d := range old.Manifests {
				switch {
				case d.ArtifactType == WarmArtifactType:
					oldWarm = append(oldWarm, d)
				case d.Platform == nil || d.Platform.Architecture != arch || d.Platform.OS != os:
					idx.Manifests = append(idx.Manifests, d)
					kept[d.Digest] = true
				}
			}
		}
	}
	idx.Manifests = append(idx.Manifests, ours)
	for _, d := range oldWarm {
		if img := d.Annotations[AnnotationWarmImage]; kept[img] && img != digest {
			idx.Manifests = append(idx.Manifests, d)
		}
	}
	idx.Manifests = append(idx.Manifests, warm...)
	return json.Marshal(idx)
}

// PullReport says what a pull moved. Blobs and Fetched count chunks; the
// bytes include the config.
type PullReport struct {
	Image        *Image
	Blobs        int
	Fetched      int
	FetchedBytes int64
	WarmStates   int // warm states pulled with the image
}

// Pull downloads an image: only the blobs the store lacks, each verified
// against its digest before it counts. Blobs already verified stay when a
// pull is interrupted, so the next one resumes.
func (s *Store) Pull(ctx context.Context, ref, tag string, o RemoteOptions) (*PullReport, error) {
	rep, err := s.pull(ctx, ref, tag, o)
	if err != nil {
		return rep, fmt.Errorf("pull %s: %w", ref, err)
	}
	return rep, nil
}

func (s *Store) pull(ctx context.Context, ref, tag string, o RemoteOptions) (*PullReport, error) {
	r, err := o.parse(ref)
	if err != nil {
		return nil, err
	}
	local, err := localRef(r, tag)
	if err != nil {
		return nil, err
	}
	opts, _, err := o.client(ctx, r.Context(), transport.PullScope)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return nil, registryError(err)
	}
	digest, raw := desc.Digest.String(), desc.Manifest
	var index []byte
	if desc.MediaType == types.OCIImageIndex || desc.MediaType == types.DockerManifestList {
		index = raw
		if digest, err = pickPlatform(raw); err != nil {
			return nil, err
		}
		d, err := remote.Get(r.Context().Digest(digest), opts...)
		if err != nil {
			return nil, registryError(err)
		}
		raw = d.Manifest
	}
	if digestOf(raw) != digest {
		return nil, fmt.Errorf("manifest %s does not match its digest", digest)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.Config.MediaType != MediaTypeConfig {
		return nil, fmt.Errorf("%s is not a clawimg disk image", ref)
	}
	unlock, err := s.lockGC(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rep := &PullReport{}
	// The config first: what it says is checked before any chunk comes.
	quiet := o
	quiet.Progress = nil // a config is small; the bar is for the chunks
	if err := s.fetchMissing(ctx, r.Context(), opts, []Descriptor{m.Config}, 1, quiet, rep); err != nil {
		return rep, err
	}
	if err := s.checkConfig(&m); err != nil {
		return rep, err
	}
	if err := s.fetchMissing(ctx, r.Context(), opts, m.Layers, 0, o, rep); err != nil {
		return rep, err
	}
	if _, err := s.putBlobSync(raw); err != nil {
		return rep, err
	}
	d := Descriptor{MediaType: MediaTypeManifest, ArtifactType: ArtifactType, Digest: digest, Size: int64(len(raw))}
	if err := s.setTag(ctx, local, d); err != nil {
		return rep, err
	}
	if rep.Image, err = s.image(local.Name, local.Tag, digest); err != nil {
		return rep, err
	}
	if index != nil {
		err = s.pullWarm(ctx, r.Context(), opts, index, digest, o, rep)
	}
	return rep, err
}

// fetchMissing downloads the blobs the store lacks, several at once, and
// counts those from index countFrom on in rep (chunks; configs come along
// uncounted).
func (s *Store) fetchMissing(ctx context.Context, repo name.Repository, opts []remote.Option, blobs []Descriptor, countFrom int, o RemoteOptions, rep *PullReport) error {
	var missing []Descriptor
	var total int64
	for i, b := range blobs {
		if !validDigest(b.Digest) {
			return fmt.Errorf("manifest names an invalid digest %q", b.Digest)
		}
		if b.Size < 0 || b.Size > maxArchiveBlob {
			return fmt.Errorf("manifest says blob %s is %d bytes: larger than any blob of an image", b.Digest, b.Size)
		}
		if i >= countFrom {
			rep.Blobs++
		}
		if !s.hasBlob(b.Digest, b.Size) {
			missing = append(missing, b)
			total += b.Size
			if i >= countFrom {
				rep.Fetched++
			}
		}
	}
	if err := s.checkSpace(s.root, total); err != nil {
		return err
	}
	var got atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs())
	for _, b := range missing {
		g.Go(func() error {
			return s.fetchBlob(gctx, repo, b, opts, func(n int64) {
				o.Progress.report(Progress{Phase: "pull", Done: got.Add(n), Total: total})
			})
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	rep.FetchedBytes += total
	return atomicfile.SyncDir(s.blobDir())
}

// pullWarm fetches the warm states the tag's index lists for the image,
// checks each, and lists it in the store beside the image.
func (s *Store) pullWarm(ctx context.Context, repo name.Repository, opts []remote.Option, index []byte, image string, o RemoteOptions, rep *PullReport) error {
	var idx Index
	if err := json.Unmarshal(index, &idx); err != nil {
		return err
	}
	for _, d := range idx.Manifests {
		if d.ArtifactType != WarmArtifactType || d.Annotations[AnnotationWarmImage] != image || !validDigest(d.Digest) {
			continue
		}
		desc, err := remote.Get(repo.Digest(d.Digest), opts...)
		if err != nil {
			return registryError(err)
		}
		raw := desc.Manifest
		if digestOf(raw) != d.Digest {
			return fmt.Errorf("warm state %s does not match its digest", d.Digest)
		}
		var m Manifest
		if err := json.Unmarshal(raw, &m); err != nil || m.ArtifactType != WarmArtifactType || m.Config.MediaType != MediaTypeWarmConfig {
			return fmt.Errorf("warm state %s is not a clawimg warm state", d.Digest)
		}
		if err := s.fetchMissing(ctx, repo, opts, append([]Descriptor{m.Config}, m.Layers...), 1, o, rep); err != nil {
			return err
		}
		if _, err := s.putBlobSync(raw); err != nil {
			return err
		}
		st, err := s.warmState(d.Digest)
		if err != nil {
			return err
		}
		if st.Config.Image != image || !st.Config.layersCover(m.Layers) {
			return fmt.Errorf("warm state %s: its config does not match its manifest", d.Digest)
		}
		if err := s.listWarm(ctx, image, d.Digest, nil); err != nil {
			return err
		}
		rep.WarmStates++
	}
	return nil
}

// fetchBlob downloads one blob into the store, verified; a blob that does
// not match its digest is never stored.
func (s *Store) fetchBlob(ctx context.Context, repo name.Repository, b Descriptor, opts []remote.Option, progress func(int64)) error {
	l, err := remote.Layer(repo.Digest(b.Digest), append(opts, remote.WithContext(ctx))...)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", b.Digest, registryError(err))
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("fetch %s: %w", b.Digest, registryError(err))
	}
	defer rc.Close()
	// Never more than the manifest says: a registry that sends more is
	// wrong, and is not allowed to fill the disk.
	tmp, err := s.stageStream(&progressReader{r: io.LimitReader(rc, b.Size+1), report: progress}, b.Digest)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", b.Digest, err)
	}
	if fi, err := os.Stat(tmp); err != nil || fi.Size() != b.Size {
		os.Remove(tmp)
		return fmt.Errorf("fetch %s: size differs from the manifest's", b.Digest)
	}
	return os.Rename(tmp, s.blobPath(b.Digest))
}

type progressReader struct {
	r      io.Reader
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.report(int64(n))
	return n, err
}

// pickPlatform chooses this machine's architecture from an index.
func pickPlatform(raw []byte) (string, error) {
	var idx Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return "", err
	}
	var archs []string
	for _, d := range idx.Manifests {
		if d.Platform != nil {
			if d.Platform.Architecture == runtime.GOARCH {
				return d.Digest, nil
			}
			archs = append(archs, d.Platform.Architecture)
		}
	}
	if len(idx.Manifests) == 1 && idx.Manifests[0].Platform == nil {
		return idx.Manifests[0].Digest, nil
	}
	return "", fmt.Errorf("no image for %s (the tag has: %s)", runtime.GOARCH, strings.Join(archs, ", "))
}

// localRef is the local name of a pulled image: -t, else the repository's
// last path element and the tag (latest for a digest).
func localRef(r name.Reference, tag string) (Ref, error) {
	if tag == "" {
		repo := r.Context().RepositoryStr()
		t := DefaultTag
		if tg, ok := r.(name.Tag); ok {
			t = tg.TagStr()
		}
		tag = repo[strings.LastIndex(repo, "/")+1:] + ":" + t
	}
	lr, err := ParseRef(tag)
	if err == nil && lr.Digest != "" {
		err = fmt.Errorf("%w: -t needs NAME[:TAG]", ErrInvalidReference)
	}
	return lr, err
}
