package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func rmiCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "rmi IMAGE...",
		Example: "  clawimg rmi openclaw:old",
		Short:   "Remove images (untag NAME:TAG; delete the image when no tag is left)",
		Args:    args(1, -1),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			removed, err := st.Remove(c.Context(), a)
			for _, r := range removed {
				if r.Untagged != "" {
					fmt.Fprintf(e.stdout, "Untagged: %s\n", r.Untagged)
				}
				if r.Deleted != "" {
					fmt.Fprintf(e.stdout, "Deleted: %s\n", r.Deleted)
				}
			}
			return err
		},
	}
}
