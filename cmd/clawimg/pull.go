package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
)

func pullCmd(e *env) *cobra.Command {
	var tag string
	var insecure, quiet, asJSON bool
	c := &cobra.Command{
		Use:     "pull REF",
		Example: "  clawimg pull ghcr.io/acme/openclaw:1 -t openclaw:latest",
		Short:   "Download an image from an OCI registry (only the chunks the store lacks)",
		Args:    args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			progress, done := e.progress(quiet)
			rep, err := st.Pull(c.Context(), a[0], tag, images.RemoteOptions{Insecure: insecure, Progress: progress})
			done()
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(e, pullResult{Image: *rep.Image, Chunks: rep.Blobs, Fetched: rep.Fetched,
					FetchedBytes: rep.FetchedBytes, WarmStates: rep.WarmStates})
			case quiet:
				fmt.Fprintln(e.stdout, rep.Image.Digest)
				return nil
			}
			fmt.Fprintf(e.stdout, "pulled %d of %d chunks, %s; %d already here%s\n", rep.Fetched, rep.Blobs,
				images.HumanBytes(rep.FetchedBytes), rep.Blobs-rep.Fetched, warmCount(rep.WarmStates))
			fmt.Fprintf(e.stdout, "%s %s\n", rep.Image.Ref(), rep.Image.Digest)
			return nil
		},
	}
	c.Flags().StringVarP(&tag, "tag", "t", "", "local name and tag (default: the repository's last path element and tag)")
	c.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the digest only, no progress")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON: image {name, tag, digest, size, virtual_size, ...}, chunks, fetched, fetched_bytes, warm_states")
	return c
}

// warmCount says how many warm states went along, when any did.
func warmCount(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return " (with its warm state)"
	}
	return fmt.Sprintf(" (with its %d warm states)", n)
}
