package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
)

func imagesCmd(e *env) *cobra.Command {
	var asJSON, quiet bool
	c := &cobra.Command{
		Use:     "images",
		Example: "  clawimg images\n  clawimg images --json",
		Short:   "List stored images",
		Args:    args(0, 0),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			list, err := st.List()
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(e, list)
			case quiet:
				seen := map[string]bool{}
				for _, img := range list {
					if !seen[img.Digest] {
						seen[img.Digest] = true
						fmt.Fprintln(e.stdout, img.Digest)
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTAG\tDIGEST\tSIZE\tVIRTUAL SIZE\tCREATED")
			for _, img := range list {
				name, tag := img.Name, img.Tag
				if name == "" {
					name, tag = "<none>", "<none>"
				}
				if img.Broken != "" {
					fmt.Fprintf(tw, "%s\t%s\t%s\tdamaged\t-\t-\n", name, tag, images.ShortDigest(img.Digest))
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, tag, images.ShortDigest(img.Digest),
					images.HumanBytes(img.Size), images.HumanBytes(img.VirtualSize), img.Created.Local().Format(time.DateTime))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, img := range list {
				if img.Broken != "" {
					fmt.Fprintf(e.stderr, "clawimg: warning: %s is damaged (%s): remove it with clawimg rmi %s\n", img.Ref(), img.Broken, img.Ref())
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON rows: name, tag, digest, size, virtual_size, created, recipe_hash (and broken, why, for a damaged image)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print digests only")
	return c
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
