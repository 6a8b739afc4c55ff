package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/cli"
)

func importCmd(e *env) *cobra.Command {
	var tag, firmware string
	var quiet, asJSON bool
	c := &cobra.Command{
		Use:     "import FILE",
		Example: "  clawimg import disk.qcow2 -t mybase:1\n  clawimg import uefi-disk.qcow2 --firmware efi\n  clawimg import openclaw.tar",
		Short:   "Store a raw or qcow2 disk, or an archive made by export",
		Args:    args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			var meta images.Metadata
			switch firmware {
			case "bios":
			case "efi":
				meta.Firmware = firmware
			default:
				return cli.Usagef("--firmware must be bios or efi, not %q", firmware)
			}
			st, err := e.store()
			if err != nil {
				return err
			}
			progress, done := e.progress(quiet)
			img, err := st.Import(c.Context(), a[0], images.ImportOptions{Tag: tag, Progress: progress, Meta: meta})
			done()
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(e, img)
			case quiet:
				fmt.Fprintln(e.stdout, img.Digest)
				return nil
			}
			fmt.Fprintf(e.stdout, "%s %s (%s stored, %s virtual)\n", img.Ref(), img.Digest,
				images.HumanBytes(img.Size), images.HumanBytes(img.VirtualSize))
			return nil
		},
	}
	c.Flags().StringVarP(&tag, "tag", "t", "", "image name and tag (default: the file's base name, tag latest)")
	c.Flags().StringVar(&firmware, "firmware", "bios", "how a disk boots: bios, or efi for one that boots through UEFI only (launches then use OVMF)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the digest only, no progress")
	c.Flags().BoolVar(&asJSON, "json", false, "print the stored image as JSON: name, tag, digest, size, virtual_size, created, recipe_hash")
	return c
}
