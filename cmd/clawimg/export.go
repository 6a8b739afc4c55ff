package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/internal/cli"
)

func exportCmd(e *env) *cobra.Command {
	var out string
	var quiet bool
	c := &cobra.Command{
		Use:     "export IMAGE -o FILE",
		Example: "  clawimg export openclaw:latest -o openclaw.qcow2\n  clawimg export openclaw:latest -o openclaw.tar",
		Short:   "Write an image as .raw/.img (sparse), .qcow2 or .tar (portable archive)",
		Args:    args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			if out == "" {
				return cli.WithHint(cli.Usagef("export needs -o FILE"), "the extension picks the format: .raw, .img, .qcow2 or .tar")
			}
			st, err := e.store()
			if err != nil {
				return err
			}
			progress, done := e.progress(quiet)
			img, err := st.Export(c.Context(), a[0], out, progress)
			done()
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(e.stdout, "%s (%s) -> %s\n", img.Ref(), img.Digest, out)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "output file; its extension picks the format")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return c
}
