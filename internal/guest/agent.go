package guest

import (
	"fmt"
	"net"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Agent is the host's SSH agent (Packer's ssh_agent_auth): its keys log
// in, and it can be forwarded into the guest.
type Agent struct {
	agent.ExtendedAgent
	conn net.Conn
}

// OpenAgent connects to the agent listening at sock (SSH_AUTH_SOCK).
func OpenAgent(sock string) (*Agent, error) {
	if sock == "" {
		return nil, fmt.Errorf("no ssh agent: SSH_AUTH_SOCK is not set")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("ssh agent %s: %w", sock, err)
	}
	return &Agent{ExtendedAgent: agent.NewClient(c), conn: c}, nil
}

// Auth logs in with keys, then the agent's. They are one method because
// x/crypto's client tries each method (here publickey) once.
func (a *Agent) Auth(keys ...ssh.Signer) ssh.AuthMethod {
	return ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		held, err := a.Signers()
		if err != nil {
			return nil, fmt.Errorf("ssh agent: %w", err)
		}
		return append(append([]ssh.Signer(nil), keys...), held...), nil
	})
}

// Close disconnects from the agent.
func (a *Agent) Close() error { return a.conn.Close() }

// ForwardAgent makes the agent answer in c's sessions (ssh -A): commands
// there use the host's keys without them leaving the host.
func (c *Client) ForwardAgent(a *Agent) error {
	if err := agent.ForwardToAgent(c.Client, a); err != nil {
		return fmt.Errorf("forward the ssh agent: %w", err)
	}
	c.forwardAgent = true
	return nil
}
