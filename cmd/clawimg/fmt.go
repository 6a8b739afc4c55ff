package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/cli"
)

func fmtCmd(e *env) *cobra.Command {
	var check bool
	c := &cobra.Command{
		Use:     "fmt [-check] [RECIPE]",
		Example: "  clawimg fmt ./my-recipe\n  clawimg fmt -check ./my-recipe",
		Short:   "Rewrite recipe files in canonical HCL format",
		Long: `Rewrite the recipe files (*.pkr.hcl, *.pkrvars.hcl) at RECIPE, a file or
a directory (default: the current directory), in canonical HCL format and
print the names of the files it changed. With -check nothing is written: the
files that are not formatted are listed and the exit code is 1. RECIPE "-"
formats standard input to standard output.`,
		Args: args(0, 1),
		RunE: func(c *cobra.Command, a []string) error {
			path := "."
			if len(a) > 0 {
				path = a[0]
			}
			if path == "-" {
				src, err := io.ReadAll(e.stdin)
				if err != nil {
					return err
				}
				out, err := hcl.FormatSource(src, "<stdin>")
				if err != nil {
					return err
				}
				_, err = e.stdout.Write(out)
				return err
			}
			changed, err := hcl.FormatFiles(path, check)
			for _, f := range changed {
				fmt.Fprintln(e.stdout, f)
			}
			if err != nil {
				return err
			}
			if check && len(changed) > 0 {
				return cli.WithHint(fmt.Errorf("%d file(s) not formatted", len(changed)), "run 'clawimg fmt %s' to format them", path)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&check, "check", false, "check formatting only; exit 1 if a file would change")
	return c
}
