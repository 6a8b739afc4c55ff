package builder

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawimg/clawimg/hcl"
)

// TestChecksumAlgorithms: Packer's iso_checksum forms check the file with
// the algorithm they name (or whose length a bare digest has).
func TestChecksumAlgorithms(t *testing.T) {
	data := []byte("a base image")
	p := filepath.Join(t.TempDir(), "base.img")
	os.WriteFile(p, data, 0o644)
	m, s1, s5 := md5.Sum(data), sha1.Sum(data), sha512.Sum512(data)
	sums := map[string]string{"md5": hex.EncodeToString(m[:]), "sha1": hex.EncodeToString(s1[:]),
		"sha256": sha256hex(data), "sha512": hex.EncodeToString(s5[:])}
	for algo, sum := range sums {
		for _, form := range []string{algo + ":" + sum, strings.ToUpper(sum)} {
			c, err := parseChecksum(form)
			if err != nil || c.algo != algo {
				t.Fatalf("parse %s: %+v %v", form, c, err)
			}
			if err := c.verify(p, sha256hex(data)); err != nil {
				t.Errorf("%s: %v", form, err)
			}
			bad := checksum{algo, strings.Repeat("0", len(sum))}
			if err := bad.verify(p, sha256hex(data)); err == nil || !strings.Contains(err.Error(), "expected "+algo+":000") {
				t.Errorf("a wrong %s digest: %v", algo, err)
			}
		}
	}
	for _, bad := range []string{"sha384:" + strings.Repeat("a", 96), "abc", "md5:" + strings.Repeat("a", 64), "sha256:zz" + strings.Repeat("a", 62)} {
		if _, err := parseChecksum(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if c, err := parseChecksum("none"); err != nil || c.algo != "" || c.verify(p, "x") != nil {
		t.Errorf("none: %+v %v", c, err)
	}
}

// TestSHA512DownloadIsCached: a download checked with sha512 is kept by
// its SHA-256 and found again by its sha512 without a second download.
func TestSHA512DownloadIsCached(t *testing.T) {
	payload := []byte(strings.Repeat("cloud image bytes ", 1000))
	s5 := sha512.Sum512(payload)
	want := hex.EncodeToString(s5[:])
	gets := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "SHA512SUMS") {
			w.Write([]byte(want + "  base.img\n"))
			return
		}
		gets++
		w.Write(payload)
	}))
	defer srv.Close()
	cache := t.TempDir()
	for i, c := range []string{"sha512:" + want, "file:" + srv.URL + "/SHA512SUMS", want} {
		st := &state{opts: Options{CacheDir: cache}, plan: &hcl.Plan{Root: t.TempDir()},
			source: &hcl.QEMUSource{ISOURL: srv.URL + "/base.img", ISOChecksum: c}}
		if err := (stepFetch{}).run(context.Background(), st); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if st.baseSHA256 != sha256hex(payload) || gets != 1 {
			t.Fatalf("run %d (%s): sha256 %s, %d downloads", i, c, st.baseSHA256, gets)
		}
	}
	st := &state{opts: Options{CacheDir: cache}, plan: &hcl.Plan{Root: t.TempDir()},
		source: &hcl.QEMUSource{ISOURL: srv.URL + "/other.img", ISOChecksum: "sha512:" + strings.Repeat("1", 128)}}
	if err := (stepFetch{}).run(context.Background(), st); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("a wrong sha512: %v", err)
	}
}
