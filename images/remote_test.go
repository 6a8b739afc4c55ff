package images

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/bcrypt"

	"github.com/clawimg/clawimg/internal/testdisk"
)

// registry is Debian's docker-registry (the distribution registry) on a
// free loopback port, with its storage in a temp dir.
type registry struct {
	t        testing.TB
	addr     string
	storage  string
	config   string
	cmd      *exec.Cmd
	stopOnce sync.Once
}

func startRegistry(t testing.TB, htpasswd string) *registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry not found (run make deps)")
	}
	dir := t.TempDir()
	l, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	r := &registry{t: t, addr: l, storage: filepath.Join(dir, "storage"), config: filepath.Join(dir, "config.yml")}
	auth := ""
	if htpasswd != "" {
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: clawimg-test\n    path: %s\n", htpasswd)
	}
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n%s", r.storage, r.addr, auth)
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r.start(bin)
	t.Cleanup(r.stop)
	return r
}

func (r *registry) start(bin string) {
	r.cmd = exec.Command(bin, "serve", r.config)
	r.cmd.Stdout, r.cmd.Stderr = os.Stderr, os.Stderr
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.stopOnce = sync.Once{}
	for range 100 {
		if resp, err := http.Get("http://" + r.addr + "/v2/"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("the registry did not start")
}

func (r *registry) stop() {
	r.stopOnce.Do(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	})
}

func (r *registry) restart() {
	r.stop()
	bin, _ := exec.LookPath("docker-registry")
	r.start(bin)
}

func mustRef(t *testing.T, s string) name.Reference {
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// anonymous is a keychain with no credentials, so tests never read the
// developer's Docker config.
var anonymous = authn.NewMultiKeychain()

func pushPullStores(t *testing.T) (a, b *Store, disk string, dir string) {
	t.Helper()
	if err := testdisk.Available(); err != nil {
		t.Skip(err)
	}
	dir = t.TempDir()
	disk = newDisk(t, dir, "one.raw", 256, 40, 900)
	a, b = openStore(t), openStore(t)
	if _, err := a.Import(context.Background(), disk, ImportOptions{Tag: "img:1"}); err != nil {
		t.Fatal(err)
	}
	return a, b, disk, dir
}

// editedCopy writes a copy of disk with 64 KiB rewritten in place.
func editedCopy(t *testing.T, disk, path string) {
	b, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := openRaw(disk)
	at := d.extents[len(d.extents)/2].off
	d.Close()
	copy(b[at:], strings.Repeat("edited! ", 8192))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPushPullRoundTripAndDedup(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	a, b, disk, dir := pushPullStores(t)
	o := RemoteOptions{Keychain: anonymous}
	ref := reg.addr + "/team/openclaw:1"
	rep, err := a.Push(ctx, "img:1", ref, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pushed != rep.Blobs || rep.PresentBytes != 0 || rep.Blobs == 0 {
		t.Fatalf("first push %+v", rep)
	}
	// A second, independent reader: go-containerregistry's own client.
	gimg, err := remote.Image(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	man, err := gimg.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	local, _ := a.Inspect("img:1")
	if len(man.Layers) != local.UniqueBlobs || string(man.Layers[0].MediaType) != MediaTypeChunk || string(man.Config.MediaType) != MediaTypeConfig {
		t.Fatalf("manifest as go-containerregistry reads it: %+v", man)
	}
	if d, _ := gimg.Digest(); d.String() != local.Digest {
		t.Fatalf("digest %s, local %s", d, local.Digest)
	}
	// Pull into an empty store: verified and byte-identical.
	prep, err := b.Pull(ctx, ref, "", o)
	if err != nil {
		t.Fatal(err)
	}
	if prep.Image.Ref() != "openclaw:1" || prep.Fetched != prep.Blobs {
		t.Fatalf("pull %+v %+v", prep, prep.Image)
	}
	if _, err := b.Verify(ctx, "openclaw:1", nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.raw")
	if _, err := b.Export(ctx, "openclaw:1", out, nil); err != nil {
		t.Fatal(err)
	}
	sameFile(t, disk, out)
	// A second image that differs by one in-place edit moves only its
	// changed chunk(s), both ways.
	edited := filepath.Join(dir, "two.raw")
	editedCopy(t, disk, edited)
	img2, err := a.Import(ctx, edited, ImportOptions{Tag: "img:2"})
	if err != nil {
		t.Fatal(err)
	}
	rep2, err := a.Push(ctx, "img:2", reg.addr+"/team/openclaw:2", o)
	if err != nil {
		t.Fatal(err)
	}
	prep2, err := b.Pull(ctx, reg.addr+"/team/openclaw:2", "", o)
	if err != nil {
		t.Fatal(err)
	}
	up, down := float64(rep2.PushedBytes)/float64(img2.Size), float64(prep2.FetchedBytes)/float64(img2.Size)
	t.Logf("one-file change: pushed %d of %d blobs (%.3f of the image), pulled %d (%.3f)", rep2.Pushed, rep2.Blobs, up, prep2.Fetched, down)
	if rep2.Pushed > 3 || prep2.Fetched > 3 || up > 0.1 || down > 0.1 {
		t.Fatalf("the one-file change moved too much: push %+v, pull %+v", rep2, prep2)
	}
	if _, err := b.Verify(ctx, "openclaw:2", nil); err != nil {
		t.Fatal(err)
	}
}

func TestIndexHoldsBothArchitectures(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	a, b, disk, _ := pushPullStores(t)
	o := RemoteOptions{Keychain: anonymous}
	if _, err := a.Import(ctx, disk, ImportOptions{Tag: "arm:1", Meta: Metadata{Architecture: "arm64"}}); err != nil {
		t.Fatal(err)
	}
	ref := reg.addr + "/team/multi:latest"
	for _, img := range []string{"img:1", "arm:1", "img:1"} {
		if _, err := a.Push(ctx, img, ref, o); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := remote.Index(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 2 {
		t.Fatalf("index %+v", im.Manifests)
	}
	rep, err := b.Pull(ctx, ref, "x:1", o)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := a.Resolve("img:1")
	if rep.Image.Digest != want.Digest {
		t.Fatalf("pulled %s, want this machine's %s", rep.Image.Digest, want.Digest)
	}
}

func TestRegistryStoppedMidTransfer(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	a, b, _, _ := pushPullStores(t)
	ref := reg.addr + "/team/flaky:1"
	var once sync.Once
	o := RemoteOptions{Keychain: anonymous, Jobs: 2, Progress: func(p Progress) {
		if !p.Items && p.Done > p.Total/3 { // a third of the bytes, not of the checks
			once.Do(func() { go reg.stop() })
		}
	}}
	if _, err := a.Push(ctx, "img:1", ref, o); err == nil {
		t.Fatal("a push to a registry that stopped succeeded")
	} else if strings.Count(err.Error(), "\n") > 0 {
		t.Fatalf("error is not one line: %q", err)
	}
	if _, err := a.Verify(ctx, "img:1", nil); err != nil {
		t.Fatalf("the local store suffered: %v", err)
	}
	reg.restart()
	rep, err := a.Push(ctx, "img:1", ref, RemoteOptions{Keychain: anonymous})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pushed == rep.Blobs {
		t.Fatalf("the re-run pushed everything again: %+v", rep)
	}
	t.Logf("push resumed: %d of %d blobs were already there", rep.Blobs-rep.Pushed, rep.Blobs)
	// And a pull interrupted the same way resumes.
	once = sync.Once{}
	if _, err := b.Pull(ctx, ref, "", o); err == nil {
		t.Fatal("a pull from a registry that stopped succeeded")
	}
	if list, _ := b.List(); len(list) != 0 {
		t.Fatalf("an interrupted pull stored an image: %v", list)
	}
	reg.restart()
	prep, err := b.Pull(ctx, ref, "", RemoteOptions{Keychain: anonymous})
	if err != nil {
		t.Fatal(err)
	}
	if prep.Fetched == prep.Blobs {
		t.Fatalf("the re-run fetched everything again: %+v", prep)
	}
	if _, err := b.Verify(ctx, "flaky:1", nil); err != nil {
		t.Fatal(err)
	}
}

// pushForDamage pushes img:1 to ref and returns the digest of a chunk in
// the middle of it, for a test to damage in the registry's storage.
func pushForDamage(t *testing.T, s *Store, ref string) string {
	t.Helper()
	if _, err := s.Push(context.Background(), "img:1", ref, RemoteOptions{Keychain: anonymous}); err != nil {
		t.Fatal(err)
	}
	d, err := s.Inspect("img:1")
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := s.manifest(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return m.Layers[len(m.Layers)/2].Digest
}

func TestTamperedBlobIsRefused(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	a, b, _, _ := pushPullStores(t)
	o := RemoteOptions{Keychain: anonymous}
	ref := reg.addr + "/team/tamper:1"
	victim := strings.TrimPrefix(pushForDamage(t, a, ref), "sha256:")
	data := filepath.Join(reg.storage, "docker/registry/v2/blobs/sha256", victim[:2], victim, "data")
	raw, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	os.WriteFile(data, raw, 0o644)
	_, err = b.Pull(ctx, ref, "", o)
	if err == nil || !strings.Contains(err.Error(), victim) {
		t.Fatalf("pull of a tampered blob: %v", err)
	}
	if list, _ := b.List(); len(list) != 0 {
		t.Fatalf("stored %v", list)
	}
	if b.hasBlob("sha256:"+victim, -1) {
		t.Fatal("the tampered blob entered the store")
	}
}

func TestRegistryAuthAndErrors(t *testing.T) {
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-pw"), bcrypt.DefaultCost)
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(htpasswd, []byte("alice:"+string(hash)+"\n"), 0o644)
	reg := startRegistry(t, htpasswd)
	a, _, _, _ := pushPullStores(t)
	cfg := filepath.Join(t.TempDir(), "docker", "config.json")
	t.Setenv("DOCKER_CONFIG", filepath.Dir(cfg))
	ref := reg.addr + "/team/private:1"
	// No credentials.
	_, err := a.Push(ctx, "img:1", ref, RemoteOptions{})
	if err == nil || !strings.Contains(err.Error(), "registry refused the credentials") {
		t.Fatalf("push without login: %v", err)
	}
	// Wrong password.
	err = Login(ctx, reg.addr, "alice", "wrong", cfg, RemoteOptions{})
	if err == nil || err.Error() != "login "+reg.addr+": wrong user name or password" {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := os.Stat(cfg); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed login wrote credentials")
	}
	// Right password: written as docker login does, then used.
	if err := Login(ctx, reg.addr, "alice", "s3cret-pw", cfg, RemoteOptions{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config %v %v", fi, err)
	}
	if _, err := a.Push(ctx, "img:1", ref, RemoteOptions{}); err != nil {
		t.Fatalf("push after login: %v", err)
	}
	// A repository that does not exist.
	_, err = a.Pull(ctx, reg.addr+"/team/nope:1", "", RemoteOptions{})
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing repository: %q", err)
	}
	// logout: gone, and the push is refused again; a second one says so.
	if err := Logout(cfg, reg.addr); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Push(ctx, "img:1", ref+"b", RemoteOptions{}); err == nil {
		t.Fatal("push after logout succeeded")
	}
	if err := Logout(cfg, reg.addr); !errors.Is(err, ErrNotLoggedIn) {
		t.Fatalf("second logout: %v", err)
	}

	// With a credential helper (credsStore), as Docker Desktop or pass
	// set up: login stores through it, never in the file; push is served
	// by it; logout erases it.
	bin, store := t.TempDir(), t.TempDir()
	helper := "#!/bin/sh\nd=" + store + "\ncase \"$1\" in\n" +
		"store) cat > \"$d/cred.json\" ;;\n" +
		"get) read host; if [ -f \"$d/cred.json\" ]; then cat \"$d/cred.json\"; else echo 'credentials not found in native keychain'; exit 1; fi ;;\n" +
		"erase) rm -f \"$d/cred.json\" ;;\nlist) echo '{}' ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-clawtest"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	os.WriteFile(cfg, []byte(`{"credsStore": "clawtest", "currentContext": "kept"}`), 0o600)
	if err := Login(ctx, reg.addr, "alice", "s3cret-pw", cfg, RemoteOptions{}); err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(cfg)
	stored, _ := os.ReadFile(filepath.Join(store, "cred.json"))
	if strings.Contains(string(file), `"auth"`) || !strings.Contains(string(file), "clawtest") || !strings.Contains(string(stored), "s3cret-pw") {
		t.Fatalf("login with a helper: config %s, helper got %s", file, stored)
	}
	if _, err := a.Push(ctx, "img:1", ref+"c", RemoteOptions{}); err != nil {
		t.Fatalf("push with the helper's credentials: %v", err)
	}
	if err := Logout(cfg, reg.addr); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(store, "cred.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("logout left the helper's credentials")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPlainHTTPGuard: plain HTTP beyond loopback is refused unless allowed,
// before the request reaches the network (the test sends nothing anywhere:
// the transport under the guard only records that it was called).
func TestPlainHTTPGuard(t *testing.T) {
	for _, tc := range []struct {
		url      string
		insecure bool
		sent     bool
	}{
		{"http://10.255.0.1:5000/v2/", false, false},
		{"http://registry.example:5000/v2/", false, false},
		{"http://10.255.0.1:5000/v2/", true, true},
		{"https://10.255.0.1:5000/v2/", false, true},
		{"http://127.0.0.1:5000/v2/", false, true},
		{"http://localhost:5000/v2/", false, true},
		{"http://[::1]:5000/v2/", false, true},
	} {
		sent := false
		g := guard{next: roundTripFunc(func(*http.Request) (*http.Response, error) {
			sent = true
			return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
		}), insecure: tc.insecure}
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		_, err := g.RoundTrip(req)
		if sent != tc.sent || (err != nil) == tc.sent || (err != nil && !errors.Is(err, ErrPlainHTTP)) {
			t.Errorf("%s (insecure %v): sent %v, err %v", tc.url, tc.insecure, sent, err)
		}
	}
}

// A registry killed while it links a blob into a repository leaves an
// empty link file and answers the blob's existence check with 500. A push
// uploads such a blob again, which rewrites the link.
func TestPushHealsABrokenBlobLink(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	a, b, _, _ := pushPullStores(t)
	o := RemoteOptions{Keychain: anonymous}
	ref := reg.addr + "/team/healed:1"
	victim := pushForDamage(t, a, ref)
	link := filepath.Join(reg.storage, "docker/registry/v2/repositories/team/healed/_layers/sha256", strings.TrimPrefix(victim, "sha256:"), "link")
	if err := os.WriteFile(link, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Head("http://" + reg.addr + "/v2/team/healed/blobs/" + victim)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("the registry answers %s for a blob with an empty link; this test expects 500", resp.Status)
	}
	rep, err := a.Push(ctx, "img:1", ref, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pushed != 1 {
		t.Fatalf("pushed %d blobs, want the one with the broken link: %+v", rep.Pushed, rep)
	}
	if _, err := b.Pull(ctx, ref, "", o); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(ctx, "healed:1", nil); err != nil {
		t.Fatal(err)
	}
}

// TestSilentRegistryTimesOut: a registry that accepts connections and then
// says nothing, or stalls in the middle of a blob, fails the pull after the
// timeout instead of hanging it; nothing is stored.
func TestSilentRegistryTimesOut(t *testing.T) {
	reg := startRegistry(t, "")
	a, _, _, _ := pushPullStores(t)
	ctx := context.Background()
	ref := reg.addr + "/team/slow:1"
	if _, err := a.Push(ctx, "img:1", ref, RemoteOptions{Keychain: anonymous}); err != nil {
		t.Fatal(err)
	}
	// A proxy in front of the registry: silent, or stalling blob bodies.
	for _, mode := range []string{"silent", "stall"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		target, _ := url.Parse("http://" + reg.addr)
		proxy := httputil.NewSingleHostReverseProxy(target)
		hang := make(chan struct{})
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case mode == "silent":
				<-hang
			case mode == "stall" && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/"):
				w.Header().Set("Content-Length", "1000000")
				w.WriteHeader(http.StatusOK)
				w.Write([]byte("a few bytes"))
				w.(http.Flusher).Flush()
				<-hang
			default:
				proxy.ServeHTTP(w, r)
			}
		})}
		go srv.Serve(l)
		b := openStore(t)
		start := time.Now()
		_, err = b.Pull(ctx, l.Addr().String()+"/team/slow:1", "", RemoteOptions{Keychain: anonymous, Timeout: time.Second})
		took := time.Since(start)
		close(hang)
		srv.Close()
		want := map[string]string{"silent": "said nothing for 1s", "stall": "stalled: no data for 1s"}[mode]
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s registry: %v, want %q", mode, err, want)
		}
		if took > 30*time.Second {
			t.Errorf("%s registry: the pull took %s", mode, took)
		}
		if list, _ := b.List(); len(list) != 0 {
			t.Errorf("%s registry: stored %v", mode, list)
		}
	}
}

// TestPulledConfigsAreChecked: a registry serving a manifest whose config
// says what no image of ours says (a chunk the manifest does not list, an
// impossible disk size, overlapping chunks) is refused before any chunk is
// fetched, and nothing is stored.
func TestPulledConfigsAreChecked(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	a, b, _, _ := pushPullStores(t)
	o := RemoteOptions{Keychain: anonymous}
	pushForDamage(t, a, reg.addr+"/team/crafted:good")
	d, err := a.Inspect("img:1")
	if err != nil {
		t.Fatal(err)
	}
	m, cfg, err := a.manifest(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	for i, mutate := range []func(c *Config){
		func(c *Config) { c.Chunks[0].Blob = "sha256:" + strings.Repeat("ab", 32) }, // not a layer
		func(c *Config) { c.VirtualSize = 4 << 60 },
		func(c *Config) { c.Chunks[1].Offset = c.Chunks[0].Offset }, // overlapping
	} {
		c := *cfg
		c.Chunks = append([]Chunk(nil), cfg.Chunks...)
		mutate(&c)
		cb, _ := json.Marshal(c)
		repo, err := name.NewRepository(reg.addr+"/team/crafted", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteLayer(repo, static.NewLayer(cb, types.MediaType(MediaTypeConfig))); err != nil {
			t.Fatal(err)
		}
		m2 := *m
		m2.Config = Descriptor{MediaType: MediaTypeConfig, Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(cb)), Size: int64(len(cb))}
		mb, _ := json.Marshal(m2)
		tag := fmt.Sprintf("%s/team/crafted:bad%d", reg.addr, i)
		tr, _ := name.NewTag(tag, name.Insecure)
		if err := remote.Put(tr, rawManifest{b: mb, mt: types.MediaType(m.MediaType)}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Pull(ctx, tag, "", o); err == nil || !strings.Contains(err.Error(), "config") {
			t.Errorf("crafted config %d: pull %v, want the config refused", i, err)
		} else {
			t.Logf("crafted config %d: %v", i, err)
		}
		if list, _ := b.List(); len(list) != 0 {
			t.Fatalf("crafted config %d: stored %v", i, list)
		}
		for _, l := range m.Layers {
			if b.hasBlob(l.Digest, -1) {
				t.Fatalf("crafted config %d: chunk %s was fetched", i, l.Digest)
			}
		}
	}
}
