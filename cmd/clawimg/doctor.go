package main

import "github.com/spf13/cobra"

func doctorCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the host: QEMU, Multipass, accelerator, free disk, store integrity",
		Args:  args(0, 0),
		RunE:  notImplemented,
	}
}
