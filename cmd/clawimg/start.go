package main

import "github.com/spf13/cobra"

func startCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "start NAME...",
		Short: "Start stopped instances",
		Args:  args(1, -1),
		RunE:  notImplemented,
	}
}
