package main

import (
	"github.com/spf13/cobra"
)

func tagCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "tag SRC DST",
		Example: "  clawimg tag openclaw:latest openclaw:known-good",
		Short:   "Give an image another name",
		Args:    args(2, 2),
		RunE: func(c *cobra.Command, a []string) error {
			st, err := e.store()
			if err != nil {
				return err
			}
			_, err = st.Tag(c.Context(), a[0], a[1])
			return err
		},
	}
}
