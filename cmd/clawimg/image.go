package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/launcher"
)

func imageCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "image",
		Example: "  clawimg image inspect openclaw:latest",
		Short:   "Inspect or verify a stored image",
		Args:    args(0, 0),
	}
	c.AddCommand(imageInspectCmd(e), imageVerifyCmd(e))
	return c
}

func imageInspectCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "inspect IMAGE",
		Example: "  clawimg image inspect openclaw:latest --json",
		Short:   "Show an image's metadata and chunks",
		Args:    args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			d, err := st.Inspect(a[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e, d)
			}
			rows := [][2]string{
				{"Digest", d.Digest},
				{"Tags", strings.Join(d.Tags, ", ")},
				{"Created", d.Created.Local().Format("2006-01-02 15:04:05 MST")},
				{"Architecture", d.OS + "/" + d.Architecture},
				{"Virtual size", fmt.Sprintf("%s (%d bytes)", images.HumanBytes(d.VirtualSize), d.VirtualSize)},
				{"Firmware", firmwareName(d.Firmware)},
				{"Data", images.HumanBytes(d.DataSize)},
				{"Stored size", fmt.Sprintf("%s (%d chunks of %s, %d unique)", images.HumanBytes(d.Size), d.Chunks, images.HumanBytes(d.ChunkSize), d.UniqueBlobs)},
				{"Recipe hash", d.RecipeHash},
				{"Base image", d.BaseImage},
				{"OpenClaw", d.OpenClawVersion},
				{"Source", d.Source},
				{"Unpacked", d.Unpacked},
				{"Used by", strings.Join(d.UsedBy, ", ")},
			}
			for _, r := range rows {
				if r[1] != "" {
					fmt.Fprintf(e.stdout, "%-13s %s\n", r[0]+":", r[1])
				}
			}
			for _, w := range d.Warm {
				var m launcher.WarmMachine
				_ = json.Unmarshal(w.Config.Machine, &m)
				fmt.Fprintf(e.stdout, "%-13s %s: %d MiB, %d cpus, %s disk, %s, QEMU %s; %s stored; created %s\n", "Warm state:",
					images.ShortDigest(w.Digest), m.MemoryMiB, m.CPUs, images.HumanBytes(m.DiskBytes), m.Accel, m.QEMUVersion,
					images.HumanBytes(w.Size), w.Config.Created.Local().Format("2006-01-02 15:04:05 MST"))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func imageVerifyCmd(e *env) *cobra.Command {
	var quiet bool
	c := &cobra.Command{
		Use:     "verify IMAGE",
		Example: "  clawimg image verify openclaw:latest",
		Short:   "Re-hash every chunk of an image and of its warm states; exit 1 naming the first bad one",
		Args:    args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			progress, done := e.progress(quiet)
			img, err := st.Verify(c.Context(), a[0], progress)
			done()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s (%s): OK\n", img.Ref(), img.Digest)
			return nil
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return c
}

// firmwareName is how an image boots, for people.
func firmwareName(f string) string {
	if f == "" {
		return "BIOS"
	}
	return strings.ToUpper(f)
}
