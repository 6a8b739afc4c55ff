package main

import (
	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/launcher/hostnet"
)

// guestfwdCmd is what QEMU runs for each guest connection to the broker
// or the proxy of a qemu instance (its user network's guestfwd): it
// serves that one connection, on standard input and output, and exits. It
// is not for people, and prints nothing: its standard error is the
// guest's connection too.
func guestfwdCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    "guestfwd broker|proxy INSTANCE-DIR",
		Short:  "Serve one guest connection to an instance's broker or proxy (run by QEMU)",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			if err := hostnet.ServeStdio(c.Context(), a[0], a[1]); err != nil {
				return exitCode(1) // said in the instance's log, never on the connection
			}
			return nil
		},
	}
}
