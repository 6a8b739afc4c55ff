package main

import "github.com/spf13/cobra"

func execCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "exec NAME -- CMD [ARGS...]",
		Short: "Run a command in an instance; exits with its status",
		Args:  args(2, -1),
		RunE:  notImplemented,
	}
}
