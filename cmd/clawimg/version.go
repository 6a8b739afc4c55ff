package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// versionString is what --version prints: the Makefile's -ldflags when
// it set them, else what the Go toolchain recorded in the binary (the
// module version for `go install ...@VERSION`, the git revision for a build
// from a checkout), so that no build says "dev (commit unknown)" when it
// could know better.
func versionString() string {
	v, c := version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		if c == "unknown" {
			rev, dirty := "", false
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					dirty = s.Value == "true"
				}
			}
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if rev != "" {
				c = rev
				if dirty {
					c += "-dirty"
				}
			}
		}
	}
	return v + " (commit " + c + ")"
}

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print clawimg's version",
		Example: "  clawimg version",
		Args:    args(0, 0),
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(e.stdout, "clawimg %s\n", versionString())
			return nil
		},
	}
}

// cacheVersion is the clawimg a build's cache key names: its version when
// that pins the code (a release, a clean commit), else that and the
// binary's own SHA-256, so that a changed clawimg never takes an image
// baked by another for "up to date".
func cacheVersion(v string, executable func() (string, error)) (string, error) {
	if !strings.HasPrefix(v, "dev ") && !strings.Contains(v, "dirty") && !strings.Contains(v, "commit unknown") {
		return v, nil
	}
	exe, err := executable()
	if err != nil {
		return "", fmt.Errorf("find clawimg's binary for the build cache: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("read clawimg's binary for the build cache: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read clawimg's binary for the build cache: %w", err)
	}
	return v + " binary sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
