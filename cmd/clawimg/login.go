package main

import "github.com/spf13/cobra"

func loginCmd(e *env) *cobra.Command {
	var user string
	var passwordStdin bool
	c := &cobra.Command{
		Use:   "login HOST",
		Short: "Save registry credentials in the Docker config, as docker login does",
		Args:  args(1, 1),
		RunE:  notImplemented,
	}
	c.Flags().StringVarP(&user, "username", "u", "", "user name")
	c.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	return c
}
