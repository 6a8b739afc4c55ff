package main

import "github.com/spf13/cobra"

func stopCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "stop NAME...",
		Short: "Stop instances cleanly",
		Args:  args(1, -1),
		RunE:  notImplemented,
	}
}
