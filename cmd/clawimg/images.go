package main

import "github.com/spf13/cobra"

func imagesCmd(e *env) *cobra.Command {
	var asJSON, quiet bool
	c := &cobra.Command{
		Use:   "images",
		Short: "List stored images",
		Args:  args(0, 0),
		RunE:  notImplemented,
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON rows")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print digests only")
	return c
}
