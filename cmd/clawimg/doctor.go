package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/launcher"
)

func doctorCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "doctor",
		Example: "  clawimg doctor",
		Short:   "Check the host: QEMU, Multipass, accelerator, free disk, store integrity",
		Args:    args(0, 0),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			checks := launcher.Doctor(c.Context(), launcher.Config{Home: e.home(), MultipassBin: e.getenv("CLAWIMG_MULTIPASS")}, st)
			if asJSON {
				if err := writeJSON(e, checks); err != nil {
					return err
				}
			}
			fatal := false
			for _, ch := range checks {
				mark := "ok  "
				if !ch.OK {
					mark = "FAIL"
				}
				fatal = fatal || (ch.Fatal && !ch.OK)
				if !asJSON {
					fmt.Fprintf(e.stdout, "%s %-12s %s\n", mark, ch.Name, ch.Detail)
					if ch.Fix != "" {
						fmt.Fprintf(e.stdout, "     %-12s fix: %s\n", "", ch.Fix)
					}
				}
			}
			if fatal {
				return errors.New("instances cannot be launched on this host")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
