package main

import "github.com/spf13/cobra"

func exportCmd(e *env) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "export IMAGE -o FILE",
		Short: "Write an image as .raw/.img (sparse), .qcow2 or .tar (portable archive)",
		Args:  args(1, 1),
		RunE:  notImplemented,
	}
	c.Flags().StringVarP(&out, "output", "o", "", "output file; its extension picks the format")
	return c
}
