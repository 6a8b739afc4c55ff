package main

import "github.com/spf13/cobra"

func imageCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Inspect or verify a stored image",
		Args:  args(0, 0),
	}
	var asJSON bool
	inspect := &cobra.Command{
		Use:   "inspect IMAGE",
		Short: "Show an image's metadata and chunks",
		Args:  args(1, 1),
		RunE:  notImplemented,
	}
	inspect.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	verify := &cobra.Command{
		Use:   "verify IMAGE",
		Short: "Re-hash every chunk of an image; exit 1 naming the first bad one",
		Args:  args(1, 1),
		RunE:  notImplemented,
	}
	c.AddCommand(inspect, verify)
	return c
}
