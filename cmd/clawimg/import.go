package main

import "github.com/spf13/cobra"

func importCmd(e *env) *cobra.Command {
	var tag string
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Store a raw or qcow2 disk, or an archive made by export",
		Args:  args(1, 1),
		RunE:  notImplemented,
	}
	c.Flags().StringVarP(&tag, "tag", "t", "", "image name and tag (default: the file's base name, tag latest)")
	return c
}
