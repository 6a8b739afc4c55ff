package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/hcl"
)

func validateCmd(e *env) *cobra.Command {
	var rf recipeFlags
	c := &cobra.Command{
		Use:     "validate [RECIPE]",
		Example: "  clawimg validate ./my-recipe -var-file prod.pkrvars.hcl",
		Short:   "Check that a recipe is valid",
		Long: `Parse and evaluate a recipe and report every problem at once, as
file:line:col diagnostics (exit code 2). RECIPE is a .pkr.hcl file or a
directory; without it the built-in OpenClaw recipe is checked.`,
		Args: args(0, 1),
		RunE: func(c *cobra.Command, a []string) error {
			plan, err := hcl.Load(c.Context(), rf.options(e, a))
			if err != nil {
				return err
			}
			for _, w := range plan.Warnings {
				fmt.Fprintln(e.stderr, w.String())
			}
			fmt.Fprintln(e.stdout, "The recipe is valid.")
			return nil
		},
	}
	rf.register(c)
	return c
}
