package main

import "github.com/spf13/cobra"

func shellCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "shell NAME",
		Example: "  clawimg shell my-agent",
		Short:   "Open an interactive shell in an instance",
		Args:    args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			m, err := e.manager("")
			if err != nil {
				return err
			}
			return m.Shell(c.Context(), a[0], e.stdin, e.stdout, e.stderr)
		},
	}
}
