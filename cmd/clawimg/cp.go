package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/internal/cli"
	"github.com/clawimg/clawimg/internal/guest"
	"github.com/clawimg/clawimg/launcher"
)

func cpCmd(e *env) *cobra.Command {
	var recursive bool
	c := &cobra.Command{
		Use:   "cp [NAME:]SRC [NAME:]DST",
		Short: "Copy files between the host and an instance",
		Long: `Copy a file or, with -r, a directory between the host and an instance.
NAME:PATH is a path in the instance NAME; exactly one side names an instance.
As with cp, a destination that is a directory receives the source inside it.
A host path with a colon in it is written ./a:b.`,
		Example: `  clawimg cp notes.md my-agent:/home/debian/
  clawimg cp -r my-agent:/home/debian/project ./project-copy`,
		Args: args(2, 2),
		RunE: func(c *cobra.Command, a []string) error {
			name, cp, err := parseCopy(a[0], a[1])
			if err != nil {
				return err
			}
			cp.Recursive = recursive
			m, err := e.manager("")
			if err != nil {
				return err
			}
			if err := m.Copy(c.Context(), name, cp); err != nil {
				if errors.Is(err, guest.ErrIsDirectory) {
					return cli.WithHint(err, "copy a directory with -r")
				}
				return err
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&recursive, "recursive", "r", false, "copy directories and what they hold")
	return c
}

// parseCopy tells which side of a copy names an instance.
func parseCopy(src, dst string) (string, launcher.Copy, error) {
	sName, sPath, sGuest := instancePath(src)
	dName, dPath, dGuest := instancePath(dst)
	switch {
	case sGuest && dGuest:
		return "", launcher.Copy{}, cli.Usagef("cp: both %q and %q name an instance: copy through the host", src, dst)
	case !sGuest && !dGuest:
		return "", launcher.Copy{}, cli.WithHint(cli.Usagef("cp: neither %q nor %q names an instance", src, dst),
			"write the instance's side as NAME:PATH, e.g. my-agent:/home/debian/file")
	case sGuest:
		return sName, launcher.Copy{Guest: sPath, Host: dst}, nil
	}
	return dName, launcher.Copy{ToGuest: true, Host: src, Guest: dPath}, nil
}

// instancePath splits NAME:PATH; a path with a slash before its first
// colon (./a:b, /tmp/a:b) is the host's.
func instancePath(arg string) (string, string, bool) {
	name, path, ok := strings.Cut(arg, ":")
	if !ok || name == "" || strings.Contains(name, "/") || launcher.CheckName(name) != nil {
		return "", arg, false
	}
	if path == "" {
		path = "."
	}
	return name, path, true
}
