package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func sshConfigCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "ssh-config [NAME...]",
		Short: "Print an OpenSSH Host block per instance (all running ones by default)",
		Long: `Print an OpenSSH client configuration with a Host block per instance,
named after it and using its own key, for ssh, scp, rsync, VS Code Remote-SSH
and ansible. An instance that cannot be reached now (stopped) is a comment.
QEMU instances get a new port when they start: print the blocks again then.`,
		Example: `  clawimg ssh-config my-agent >> ~/.ssh/config && ssh my-agent
  clawimg ssh-config > clawimg.ssh && rsync -e 'ssh -F clawimg.ssh' -a my-agent:work/ ./work/`,
		Args: args(0, -1),
		RunE: func(c *cobra.Command, a []string) error {
			m, err := e.manager("")
			if err != nil {
				return err
			}
			hosts, err := m.SSHHosts(c.Context(), a)
			if err != nil {
				return err
			}
			for i, h := range hosts {
				if i > 0 {
					fmt.Fprintln(e.stdout)
				}
				if h.Err != nil {
					fmt.Fprintf(e.stdout, "# %s: %v\n", h.Name, h.Err)
					continue
				}
				fmt.Fprintf(e.stdout, `Host %s
  HostName %s
  Port %d
  User %s
  IdentityFile "%s"
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
`, h.Name, h.HostName, h.Port, h.User, h.IdentityFile)
			}
			return nil
		},
	}
}
