package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/internal/cli"
)

func deleteCmd(e *env) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:     "delete NAME...|--all",
		Example: "  clawimg delete my-agent\n  clawimg delete --all",
		Aliases: []string{"rm"},
		Short:   "Delete instances and everything of them on the host",
		Args:    args(0, -1),
		RunE: func(c *cobra.Command, a []string) error {
			if all == (len(a) > 0) {
				return cli.Usagef("delete needs instance names or --all, not both")
			}
			m, err := e.manager("")
			if err != nil {
				return err
			}
			deleted, err := m.Delete(c.Context(), a, all)
			for _, n := range deleted {
				fmt.Fprintf(e.stdout, "Deleted: %s\n", n)
			}
			return err
		},
	}
	c.Flags().BoolVar(&all, "all", false, "delete every instance")
	return c
}
