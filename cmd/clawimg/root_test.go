package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
)

// TestLibraryErrorsGetHints: the libraries name what went wrong without CLI
// words; report adds the hint that names the flag or command to use.
func TestLibraryErrorsGetHints(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("pull r/x:1: %w to 10.0.0.1:5000", images.ErrPlainHTTP), "clawimg: hint: use --insecure to allow plain HTTP to this registry\n"},
		{fmt.Errorf("push: %w (401)", images.ErrCredentialsRefused), "clawimg: hint: run 'clawimg login REGISTRY', or check the user name and password\n"},
	} {
		var b bytes.Buffer
		if code := report(&b, tc.err); code != 1 || !bytes.HasSuffix(b.Bytes(), []byte(tc.want)) {
			t.Errorf("report(%v) = %d:\n%s", tc.err, code, b.String())
		}
	}
}

// Every command people run shows an example in its help.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if strings.TrimSpace(sub.Example) == "" {
				t.Errorf("%s has no Example", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(newRoot(&env{}))
}

// TestCacheVersion: a build's cache key names the binary itself unless
// the version pins the code.
func TestCacheVersion(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "clawimg")
	os.WriteFile(exe, []byte("binary one"), 0o755)
	find := func() (string, error) { return exe, nil }
	for _, tc := range []struct {
		version    string
		wantBinary bool
	}{
		{"v1.2.0 (commit 0b20eeb37d33)", false},
		{"64b6fc1 (commit 64b6fc1)", false},
		{"dev (commit unknown)", true},
		{"dev (commit 0b20eeb37d33-dirty)", true},
		{"64b6fc1-dirty (commit 64b6fc1-dirty)", true},
		{"v0.0.0-20261204-0b20eeb37d33+dirty (commit 0b20eeb37d33-dirty)", true},
	} {
		got, err := cacheVersion(tc.version, find)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(got, "binary sha256:") != tc.wantBinary || !strings.HasPrefix(got, tc.version) {
			t.Errorf("cacheVersion(%q) = %q", tc.version, got)
		}
	}
	// Another binary with the same version string is another key.
	a, _ := cacheVersion("dev (commit unknown)", find)
	os.WriteFile(exe, []byte("binary two"), 0o755)
	b, _ := cacheVersion("dev (commit unknown)", find)
	if a == b {
		t.Error("two binaries, one cache key")
	}
	if _, err := cacheVersion("dev (commit unknown)", func() (string, error) { return "/nonexistent/clawimg", nil }); err == nil {
		t.Error("an unreadable binary gave a key")
	}
}

func TestArgKind(t *testing.T) {
	for _, tc := range []struct {
		use  string
		i    int
		want string
	}{
		{"rmi IMAGE...", 0, "IMAGE"}, {"rmi IMAGE...", 3, "IMAGE"},
		{"tag SRC DST", 0, "SRC"}, {"tag SRC DST", 1, "DST"},
		{"delete NAME...|--all", 2, "NAME"}, {"ssh-config [NAME...]", 1, "NAME"},
		{"exec NAME CMD [ARGS...]", 0, "NAME"}, {"exec NAME CMD [ARGS...]", 1, "CMD"},
		{"export IMAGE -o FILE", 1, "FILE"}, {"launch [IMAGE]", 0, "IMAGE"}, {"launch [IMAGE]", 1, ""},
		{"cp [NAME:]SRC [NAME:]DST", 0, "NAME:]SRC"}, {"fmt [-check] [RECIPE]", 0, "RECIPE"},
	} {
		if got := argKind(tc.use, tc.i); got != tc.want {
			t.Errorf("argKind(%q, %d) = %q, want %q", tc.use, tc.i, got, tc.want)
		}
	}
}
