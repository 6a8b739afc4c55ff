package main

import "github.com/spf13/cobra"

func tagCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "tag SRC DST",
		Short: "Give an image another name",
		Args:  args(2, 2),
		RunE:  notImplemented,
	}
}
