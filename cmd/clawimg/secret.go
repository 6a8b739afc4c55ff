package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/internal/cli"
)

func secretCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "secret",
		Example: "  clawimg secret set my-agent --api-key-file key.txt",
		Short:   "Manage the API key an instance's broker adds on the host",
	}
	var keyFile string
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Replace an instance's API key on the host; its next request uses it",
		Long: `Replace the API key of a qemu instance. The key stays on the host
($CLAWIMG_HOME/instances/NAME/api-key, mode 0600): the instance's broker adds
it to each request, from the next one on. The key comes from --api-key-file
(- for standard input) or ANTHROPIC_API_KEY, never from an argument.`,
		Example: `  clawimg secret set my-agent --api-key-file ~/.config/anthropic-key
  pass show anthropic | clawimg secret set my-agent --api-key-file -`,
		Args: args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			key, err := apiKey(e, keyFile)
			if err != nil {
				return err
			}
			if key == "" {
				return cli.WithHint(cli.Usagef("secret set %s: no key given", a[0]),
					"pass --api-key-file FILE (- for standard input) or set ANTHROPIC_API_KEY")
			}
			m, err := e.manager("")
			if err != nil {
				return err
			}
			if err := m.SecretSet(a[0], key); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "The API key of %s is replaced; its next request uses it.\n", a[0])
			return nil
		},
	}
	set.Flags().StringVar(&keyFile, "api-key-file", "", "file holding the key, - for standard input (default: $ANTHROPIC_API_KEY)")
	c.AddCommand(set)
	return c
}
