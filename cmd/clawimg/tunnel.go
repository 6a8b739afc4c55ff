package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/clawimg/clawimg/internal/cli"
	"github.com/clawimg/clawimg/launcher"
)

func tunnelCmd(e *env) *cobra.Command {
	var port, guestPort int
	c := &cobra.Command{
		Use:   "tunnel NAME",
		Short: "Forward an instance's OpenClaw gateway to the host's loopback",
		Long: `Forward the OpenClaw gateway's port in an instance (which listens on the
instance's loopback only) to 127.0.0.1 on the host, through the instance's SSH,
until interrupted. Open the printed URL and give the gateway's token, which the
printed command reads.`,
		Example: `  clawimg tunnel my-agent
  clawimg tunnel my-agent --port 0    # any free port`,
		Args: args(1, 1),
		RunE: func(c *cobra.Command, a []string) error {
			if port < 0 || port > 65535 || guestPort < 1 || guestPort > 65535 {
				return cli.Usagef("tunnel: a port is out of range")
			}
			m, err := e.manager("")
			if err != nil {
				return err
			}
			if _, err := m.Get(a[0]); err != nil {
				return err
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				if errors.Is(err, syscall.EADDRINUSE) {
					return cli.WithHint(fmt.Errorf("tunnel: 127.0.0.1:%d is in use", port),
						"another tunnel may hold it: pick another with --port N, or --port 0 for any free one")
				}
				return err
			}
			defer l.Close()
			fmt.Fprintf(e.stdout, "Gateway of %s: http://%s/\nToken:  clawimg exec %s -- sudo grep OPENCLAW_GATEWAY_TOKEN /home/openclaw/.openclaw/.env\n",
				a[0], l.Addr(), a[0])
			fmt.Fprintln(e.stderr, "Forwarding until interrupted (Ctrl-C).")
			return m.Tunnel(c.Context(), a[0], l, guestPort)
		},
	}
	c.Flags().IntVar(&port, "port", launcher.GatewayPort, "port on the host's loopback (0: any free one)")
	c.Flags().IntVar(&guestPort, "guest-port", launcher.GatewayPort, "port on the instance's loopback")
	return c
}
