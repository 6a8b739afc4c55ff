package main

import "github.com/spf13/cobra"

func stopCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "stop NAME...",
		Example: "  clawimg stop my-agent",
		Short:   "Stop instances cleanly (ACPI power-off, then killed after a timeout)",
		Args:    args(1, -1),
		RunE: func(c *cobra.Command, a []string) error {
			m, err := e.manager("")
			if err != nil {
				return err
			}
			return m.Stop(c.Context(), a)
		},
	}
}
