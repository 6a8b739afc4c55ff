package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/cli"
)

func loginCmd(e *env) *cobra.Command {
	var user string
	var passwordStdin, insecure bool
	c := &cobra.Command{
		Use:     "login HOST",
		Example: "  echo \"$TOKEN\" | clawimg login ghcr.io -u me --password-stdin",
		Short:   "Save registry credentials as docker login does (the Docker config or its credential helper)",
		Long: `Check a user name and password against a registry and save them in the Docker
config ($DOCKER_CONFIG/config.json or ~/.docker/config.json), where push and
pull (and docker, crane, skopeo) find them. The password is read from standard
input with --password-stdin, else asked for on the terminal; it is never a
flag value.`,
		Args: args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			if user == "" {
				return cli.Usagef("login needs -u USER")
			}
			password, err := readPassword(e, passwordStdin)
			if err != nil {
				return err
			}
			path := images.DockerConfigPath(e.getenv)
			if err := images.Login(c.Context(), a[0], user, password, path, images.RemoteOptions{Insecure: insecure}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Login Succeeded (credentials saved in %s)\n", images.CredentialsPlace(path, a[0]))
			return nil
		},
	}
	c.Flags().StringVarP(&user, "username", "u", "", "user name")
	c.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	c.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback")
	return c
}

func readPassword(e *env, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", cli.WithHint(errors.New("no terminal to ask for the password"), "use --password-stdin")
	}
	fmt.Fprint(e.stderr, "Password: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	return string(b), err
}

func logoutCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "logout HOST",
		Short:   "Remove a registry's credentials from the Docker config or its credential helper",
		Example: "  clawimg logout ghcr.io",
		Args:    args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			if err := images.Logout(images.DockerConfigPath(e.getenv), a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Removed the credentials of %s\n", a[0])
			return nil
		},
	}
}
