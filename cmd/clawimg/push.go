package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
)

func pushCmd(e *env) *cobra.Command {
	var insecure, quiet bool
	c := &cobra.Command{
		Use:     "push IMAGE REF",
		Example: "  clawimg push openclaw:latest localhost:5000/team/openclaw:1",
		Short:   "Upload an image to an OCI registry (only the chunks it lacks)",
		Args:    args(2, 2),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			progress, done := e.progress(quiet)
			rep, err := st.Push(c.Context(), a[0], a[1], images.RemoteOptions{Insecure: insecure, Progress: progress})
			done()
			if err != nil {
				return err
			}
			if quiet {
				fmt.Fprintln(e.stdout, rep.Digest)
				return nil
			}
			fmt.Fprintf(e.stdout, "pushed %d of %d chunks, %s; %d already present%s\n", rep.Pushed, rep.Blobs,
				images.HumanBytes(rep.PushedBytes), rep.Blobs-rep.Pushed, warmCount(rep.WarmStates))
			fmt.Fprintf(e.stdout, "%s@%s\n", rep.Ref, rep.Digest)
			return nil
		},
	}
	c.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the digest only, no progress")
	return c
}
