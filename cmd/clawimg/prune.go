package main

import "github.com/spf13/cobra"

func pruneCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "prune",
		Short: "Remove untagged images, unused unpacked bases and unreferenced chunks",
		Args:  args(0, 0),
		RunE:  notImplemented,
	}
}
