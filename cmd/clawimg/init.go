package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/cli"
)

func initCmd(e *env) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:     "init [DIR]",
		Example: "  clawimg init my-recipe && clawimg build my-recipe",
		Short:   "Write the built-in OpenClaw recipe and its scripts into DIR to customize",
		Args:    args(0, 1),
		RunE: func(c *cobra.Command, a []string) error {
			dir := "."
			if len(a) > 0 {
				dir = a[0]
			}
			written, err := hcl.WriteBuiltin(dir, force)
			if err != nil {
				return cli.WithHint(err, "use --force to overwrite, or choose an empty directory")
			}
			for _, f := range written {
				fmt.Fprintln(e.stdout, f)
			}
			fmt.Fprintf(e.stderr, "Edit the recipe, then run: clawimg build %s\n", dir)
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	return c
}
