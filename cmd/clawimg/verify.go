package main

import "github.com/spf13/cobra"

func verifyCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "verify NAME",
		Short: "Run the isolation probes inside an instance; exit 1 if any fails",
		Args:  args(1, 1),
		RunE:  notImplemented,
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
