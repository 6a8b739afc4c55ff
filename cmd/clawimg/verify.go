package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/launcher"
)

func verifyCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "verify NAME",
		Example: "  clawimg verify my-agent\n  clawimg verify my-agent --json",
		Short:   "Run the isolation probes inside an instance; exit 1 if any fails",
		Args:    args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			return runVerify(e, c, a[0], asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON: instance, ok, checks (id, ok, detail)")
	return c
}

func runVerify(e *env, c *cobra.Command, name string, asJSON bool) error {
	m, err := e.manager("")
	if err != nil {
		return err
	}
	v, err := m.Verify(c.Context(), name)
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(e, v); err != nil {
			return err
		}
	} else {
		for _, p := range v.Checks {
			mark := "ok  "
			if !p.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(e.stdout, "%s %-32s %s\n", mark, p.ID, p.Detail)
		}
	}
	return verifyFailed(v)
}

// verifyFailed is the error of a verification with failed checks.
func verifyFailed(v *launcher.Verification) error {
	if v.OK {
		return nil
	}
	failed := 0
	for _, p := range v.Checks {
		if !p.OK {
			failed++
		}
	}
	return fmt.Errorf("verify %s: %d of %d checks failed", v.Instance, failed, len(v.Checks))
}
