package main

import "github.com/spf13/cobra"

func listCmd(e *env) *cobra.Command {
	var asJSON, quiet bool
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List instances",
		Args:    args(0, 0),
		RunE:    notImplemented,
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON rows")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print names only")
	return c
}
