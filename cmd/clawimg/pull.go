package main

import "github.com/spf13/cobra"

func pullCmd(e *env) *cobra.Command {
	var tag string
	var insecure bool
	c := &cobra.Command{
		Use:   "pull REF",
		Short: "Download an image from an OCI registry (only the chunks the store lacks)",
		Args:  args(1, 1),
		RunE:  notImplemented,
	}
	c.Flags().StringVarP(&tag, "tag", "t", "", "local name and tag (default: the repository's last path element and tag)")
	c.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback")
	return c
}
