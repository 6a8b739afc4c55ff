package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/cli"
)

func pushCmd(e *env) *cobra.Command {
	var insecure, quiet, asJSON bool
	c := &cobra.Command{
		Use: "push IMAGE [REF]",
		Example: `  clawimg push openclaw:latest localhost:5000/team/openclaw:1
  clawimg tag openclaw:latest ghcr.io/acme/openclaw:1 && clawimg push ghcr.io/acme/openclaw:1`,
		Short: "Upload an image to an OCI registry (only the chunks it lacks)",
		Long: `Upload an image to an OCI registry, sending only the chunks the registry
lacks. With one argument, the image's own name says where (as docker push):
tag it with a registry name first.`,
		Args: args(1, 2),
		RunE: func(c *cobra.Command, a []string) error {
			dst := a[len(a)-1]
			if len(a) == 1 && !images.IsRemote(dst) {
				return cli.WithHint(cli.Usagef("push %s: the name says no registry to push to", dst),
					"give one: clawimg push %[1]s localhost:5000/%[1]s, or tag it with a registry name and push that", dst)
			}
			st, err := e.store()
			if err != nil {
				return err
			}
			progress, done := e.progress(quiet)
			rep, err := st.Push(c.Context(), a[0], dst, images.RemoteOptions{Insecure: insecure, Progress: progress})
			done()
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(e, pushResult{Ref: rep.Ref, Digest: rep.Digest, Chunks: rep.Blobs, Pushed: rep.Pushed,
					PushedBytes: rep.PushedBytes, PresentBytes: rep.PresentBytes, WarmStates: rep.WarmStates})
			case quiet:
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
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON: ref, digest, chunks, pushed, pushed_bytes, present_bytes, warm_states")
	return c
}
