package main

import "github.com/spf13/cobra"

func startCmd(e *env) *cobra.Command {
	var accel string
	c := &cobra.Command{
		Use:     "start NAME...",
		Example: "  clawimg start my-agent",
		Short:   "Start stopped instances",
		Args:    args(1, -1),
		RunE: func(c *cobra.Command, a []string) error {
			m, err := e.manager(accel)
			if err != nil {
				return err
			}
			return m.Start(c.Context(), a)
		},
	}
	c.Flags().StringVar(&accel, "accel", "auto", "accelerator for the qemu driver: auto, kvm, hvf or tcg")
	return c
}
