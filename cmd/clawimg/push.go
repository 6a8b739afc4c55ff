package main

import "github.com/spf13/cobra"

func pushCmd(e *env) *cobra.Command {
	var insecure bool
	c := &cobra.Command{
		Use:   "push IMAGE REF",
		Short: "Upload an image to an OCI registry (only the chunks it lacks)",
		Args:  args(2, 2),
		RunE:  notImplemented,
	}
	c.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback")
	return c
}
