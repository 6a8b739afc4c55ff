package main

import (
	"fmt"
	"runtime/debug"

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
