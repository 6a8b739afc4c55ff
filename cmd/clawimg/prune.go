package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
)

func pruneCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "prune",
		Example: "  clawimg prune",
		Short:   "Remove untagged images, unused unpacked bases, unreferenced chunks and unused multipass copies",
		Args:    args(0, 0),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			rep, err := st.Prune(c.Context())
			if err != nil {
				return err
			}
			for _, d := range rep.Images {
				fmt.Fprintf(e.stdout, "Deleted: %s\n", d)
			}
			fmt.Fprintf(e.stdout, "Removed %d image(s), %d blob(s), %d unpacked base(s); freed %s\n",
				len(rep.Images), rep.Blobs, rep.Bases, images.HumanBytes(rep.Freed))
			if rep.Kept != "" {
				fmt.Fprintf(e.stderr, "clawimg: warning: %s\n", rep.Kept)
			}
			// The multipass driver's copies of images no longer stored.
			m, err := e.manager("")
			if err != nil {
				return err
			}
			copies, err := m.PruneCopies(c.Context())
			if copies.Copies > 0 {
				noun := "copies"
				if copies.Copies == 1 {
					noun = "copy"
				}
				fmt.Fprintf(e.stdout, "Removed %d multipass image %s; freed %s\n", copies.Copies, noun, images.HumanBytes(copies.Freed))
			}
			return err
		},
	}
}
