package builder

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/atomicfile"
)

// stepFetch finds the base image and checks it: a local file is used in
// place, a URL is downloaded into the cache (resumable) and kept by its
// checksum. A file that does not match its checksum is never used.
type stepFetch struct{}

func (stepFetch) name() string { return "fetch" }

func (stepFetch) cleanup(*state) error { return nil }

func (s stepFetch) run(ctx context.Context, st *state) error {
	urls := st.source.ISOURLs
	if len(urls) == 0 {
		urls = []string{st.source.ISOURL}
	}
	// iso_urls: the places of one file, tried in order.
	var errs []string
	for _, url := range urls {
		err := s.fetch(ctx, st, url)
		if err == nil {
			st.baseURL = url
			return nil
		}
		if ctx.Err() != nil || len(urls) == 1 {
			return err
		}
		errs = append(errs, err.Error())
	}
	return fmt.Errorf("no place of the base image gave it: %s", strings.Join(errs, "; "))
}

// fetch finds, or downloads, and checks the base image at url.
func (s stepFetch) fetch(ctx context.Context, st *state, url string) error {
	want, err := expectedChecksum(ctx, st.source.ISOChecksum, url, st.plan.Root)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		p := strings.TrimPrefix(url, "file://")
		if !filepath.IsAbs(p) {
			p = filepath.Join(st.plan.Root, p)
		}
		sum, err := hashCached(st.opts.CacheDir, p)
		if err != nil {
			return fmt.Errorf("base image: %w", err)
		}
		if err := want.verify(p, sum); err != nil {
			return fmt.Errorf("checksum mismatch for %s: %w", p, err)
		}
		st.basePath, st.baseSHA256 = p, sum
		return nil
	}
	target := st.source.ISOTargetPath
	if target != "" {
		// iso_target_path: a copy there from an earlier build is used
		// when it matches the checksum.
		if sum, err := hashCached(st.opts.CacheDir, target); err == nil && want.verify(target, sum) == nil {
			st.basePath, st.baseSHA256 = target, sum
			st.event(Event{Phase: "fetch", Detail: "using " + target})
			return nil
		}
	}
	if err := s.download(ctx, st, url, want); err != nil || target == "" {
		return err
	}
	if err := copyFile(ctx, st.basePath, target); err != nil {
		return fmt.Errorf("iso_target_path: %w", err)
	}
	st.event(Event{Phase: "fetch", Detail: "saved as " + target})
	return nil
}

// copyFile copies src to dst, which appears only when complete.
func copyFile(ctx context.Context, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, ctxReader{ctx, in}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// expectedChecksum resolves iso_checksum: none, ALGO:HEX, a bare HEX, or
// file:URL (a SHA256SUMS-style file; the digest's length names the
// algorithm).
func expectedChecksum(ctx context.Context, c, url, root string) (checksum, error) {
	if !strings.HasPrefix(c, "file:") {
		return parseChecksum(c)
	}
	sums, err := readURL(ctx, c[len("file:"):], root)
	if err != nil {
		return checksum{}, fmt.Errorf("read checksums %s: %w", c[len("file:"):], err)
	}
	name := path.Base(url)
	sc := bufio.NewScanner(strings.NewReader(string(sums)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && strings.TrimPrefix(f[1], "*") == name {
			if sum, err := parseChecksum(f[0]); err == nil {
				return sum, nil
			}
		}
	}
	return checksum{}, fmt.Errorf("%s has no checksum for %s", c[len("file:"):], name)
}

func readURL(ctx context.Context, u, root string) ([]byte, error) {
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s", resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	}
	p := strings.TrimPrefix(u, "file://")
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	return os.ReadFile(p)
}

// download fetches url into the cache, resuming a partial download, and
// verifies it before it is used.
func (stepFetch) download(ctx context.Context, st *state, url string, want checksum) error {
	dir := st.opts.CacheDir
	if st.source.ISOSkipCache {
		// iso_skip_cache: a download of this build's own, which Build
		// removes when it ends.
		if st.fetchDir == "" {
			d, err := os.MkdirTemp(st.opts.WorkDir, "download-")
			if err != nil {
				return err
			}
			st.fetchDir = d
		}
		dir = st.fetchDir
	}
	if err := os.MkdirAll(filepath.Join(dir, "sha256"), 0o755); err != nil {
		return err
	}
	// The cache keeps files by SHA-256; another algorithm's digest points
	// at one through an index file ALGO/HEX holding its SHA-256.
	if sum := cachedSHA256(dir, want); sum != "" {
		cached := filepath.Join(dir, "sha256", sum)
		if _, err := os.Stat(cached); err == nil {
			st.basePath, st.baseSHA256 = cached, sum
			return nil
		}
	}
	part := filepath.Join(dir, "downloads", urlKey(url)+".part")
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	have, _ := f.Seek(0, io.SeekEnd)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK, http.StatusRequestedRangeNotSatisfiable:
		if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0 {
			break // already whole
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		have = 0
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	default:
		return fmt.Errorf("download %s: %s", url, resp.Status)
	}
	total := have + resp.ContentLength
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		pw := &progressWriter{st: st, done: have, total: total}
		if _, err := io.Copy(io.MultiWriter(f, pw), resp.Body); err != nil {
			return fmt.Errorf("download %s: %w (run the build again to resume)", url, err)
		}
	}
	sum, err := hashFile(part)
	if err != nil {
		return err
	}
	if err := want.verify(part, sum); err != nil {
		os.Remove(part) // the bad file is never used
		return fmt.Errorf("checksum mismatch for %s: %w", url, err)
	}
	final := filepath.Join(dir, "sha256", sum)
	if err := os.Rename(part, final); err != nil {
		return err
	}
	if want.algo != "" && want.algo != "sha256" {
		index := filepath.Join(dir, want.algo, want.hex)
		if err := os.MkdirAll(filepath.Dir(index), 0o755); err == nil {
			_ = atomicfile.WriteFile(index, []byte(sum), 0o644)
		}
	}
	st.basePath, st.baseSHA256 = final, sum
	return nil
}

// cachedSHA256 is the SHA-256 name under which the cache may hold the file
// a checksum expects, or "".
func cachedSHA256(dir string, want checksum) string {
	switch want.algo {
	case "":
		return ""
	case "sha256":
		return want.hex
	}
	b, err := os.ReadFile(filepath.Join(dir, want.algo, want.hex))
	if err != nil || len(b) != 64 {
		return ""
	}
	return string(b)
}

func urlKey(url string) string {
	k := sha256.Sum256([]byte(url))
	return hex.EncodeToString(k[:])
}

type progressWriter struct {
	st          *state
	done, total int64
	last        time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if time.Since(p.last) > 100*time.Millisecond || p.done == p.total {
		p.last = time.Now()
		p.st.event(Event{Phase: "fetch", Bytes: &images.Progress{Phase: "fetch", Done: p.done, Total: p.total}})
	}
	return len(b), nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashCached hashes a local base image, remembering the result by path,
// size and modification time, so an unchanged build is "up to date" in well
// under a second.
func hashCached(cacheDir, p string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%s is a directory", p)
	}
	abs, _ := filepath.Abs(p)
	type entry struct {
		Size   int64     `json:"size"`
		MTime  time.Time `json:"mtime"`
		SHA256 string    `json:"sha256"`
	}
	key := sha256.Sum256([]byte(abs))
	memo := filepath.Join(cacheDir, "hashes", hex.EncodeToString(key[:16])+".json")
	var e entry
	if b, err := os.ReadFile(memo); err == nil && json.Unmarshal(b, &e) == nil &&
		e.Size == fi.Size() && e.MTime.Equal(fi.ModTime()) && len(e.SHA256) == 64 {
		return e.SHA256, nil
	}
	sum, err := hashFile(p)
	if err != nil {
		return "", err
	}
	e = entry{Size: fi.Size(), MTime: fi.ModTime(), SHA256: sum}
	if err := os.MkdirAll(filepath.Dir(memo), 0o755); err == nil {
		b, _ := json.Marshal(e)
		_ = os.WriteFile(memo, b, 0o644)
	}
	return sum, nil
}
