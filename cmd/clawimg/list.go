package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func listCmd(e *env) *cobra.Command {
	var asJSON, quiet bool
	c := &cobra.Command{
		Use:     "list",
		Example: "  clawimg list\n  clawimg list --json",
		Aliases: []string{"ls"},
		Short:   "List instances",
		Args:    args(0, 0),
		RunE: func(c *cobra.Command, a []string) error {
			m, err := e.manager("")
			if err != nil {
				return err
			}
			list, err := m.List(c.Context())
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(e, list)
			case quiet:
				for _, l := range list {
					fmt.Fprintln(e.stdout, l.Name)
				}
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATE\tIMAGE\tDRIVER\tSTART\tSSH")
			for _, l := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.State, l.Image, l.Driver, l.Start, l.SSH)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON rows: name, state, image, digest, driver, ipv4, ssh, created, start")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print names only")
	return c
}
