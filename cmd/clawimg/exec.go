package main

import (
	"github.com/spf13/cobra"
)

// exitCode makes clawimg exit with a status of its own choosing, without
// an error message (exec passes the command's status through).
type exitCode int

func (c exitCode) Error() string { return "exit status" }

func execCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "exec NAME CMD [ARGS...]",
		Example: "  clawimg exec my-agent ls -la /home/openclaw\n  clawimg exec my-agent -- sh -c 'uptime; df -h /'",
		Short:   "Run a command in an instance; exits with its status",
		Args:    args(2, -1),
		RunE: func(c *cobra.Command, a []string) error {
			m, err := e.manager("")
			if err != nil {
				return err
			}
			code, err := m.Exec(c.Context(), a[0], a[1:], e.stdin, e.stdout, e.stderr)
			if err != nil {
				return err
			}
			if code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
}
