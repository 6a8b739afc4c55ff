package main

import "github.com/spf13/cobra"

func rmiCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "rmi IMAGE...",
		Short: "Remove images",
		Args:  args(1, -1),
		RunE:  notImplemented,
	}
}
