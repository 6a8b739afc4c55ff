package main

import "github.com/spf13/cobra"

func deleteCmd(e *env) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:     "delete NAME...|--all",
		Aliases: []string{"rm"},
		Short:   "Delete instances and everything of them on the host",
		Args:    args(0, -1),
		RunE:    notImplemented,
	}
	c.Flags().BoolVar(&all, "all", false, "delete every instance")
	return c
}
