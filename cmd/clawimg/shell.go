package main

import "github.com/spf13/cobra"

func shellCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "shell NAME",
		Short: "Open an interactive shell in an instance",
		Args:  args(1, 1),
		RunE:  notImplemented,
	}
}
