package builder

import (
	"fmt"
	"net"
	"strconv"

	"golang.org/x/crypto/ssh"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/guest"
)

// sshLogin is how the build logs in to its VM: clawimg's own key first,
// then the recipe's key file, the host's agent's keys (ssh_agent_auth)
// and its password, along the route the recipe names (a bastion or a
// SOCKS5 proxy; straight to the forwarded port without one). The agent,
// when one is used, stays open for forwarding; stepSSH's cleanup closes it.
func sshLogin(st *state) (guest.Login, error) {
	src := st.source
	keys := []ssh.Signer{st.key.Signer}
	if src.SSHPrivateKeyFile != "" {
		k, err := loadKey(src.SSHPrivateKeyFile, src.SSHCertificateFile, "ssh_private_key_file", "ssh_certificate_file")
		if err != nil {
			return guest.Login{}, err
		}
		keys = append(keys, k)
	}
	if src.SSHAgentAuth || (src.SSHBastion != nil && src.SSHBastion.AgentAuth) {
		if err := openAgent(st); err != nil {
			return guest.Login{}, err
		}
	}
	auth := []ssh.AuthMethod{ssh.PublicKeys(keys...)}
	if src.SSHAgentAuth {
		auth[0] = st.agent.Auth(keys...)
	}
	if src.SSHPassword != "" {
		auth = append(auth, ssh.Password(src.SSHPassword))
	}
	l := guest.Login{Port: st.port, User: src.SSHUsername, Auth: auth, Handshakes: src.SSHHandshakeAttempts}
	switch {
	case src.SSHBastion != nil:
		b, err := bastion(st, src.SSHBastion)
		if err != nil {
			return guest.Login{}, err
		}
		l.Route.Bastion = b
	case src.SSHProxy != nil:
		p := src.SSHProxy
		l.Route.Proxy = &guest.Proxy{Addr: hostPort(p.Host, p.Port), User: p.Username, Password: p.Password}
	}
	return l, nil
}

// bastion is the recipe's bastion with its ways to log in: the key file,
// the agent, the password (also for keyboard-interactive prompts).
func bastion(st *state, b *hcl.SSHBastion) (*guest.Bastion, error) {
	var keys []ssh.Signer
	if b.PrivateKeyFile != "" {
		k, err := loadKey(b.PrivateKeyFile, b.CertificateFile, "ssh_bastion_private_key_file", "ssh_bastion_certificate_file")
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	var auth []ssh.AuthMethod
	switch {
	case b.AgentAuth:
		auth = append(auth, st.agent.Auth(keys...))
	case len(keys) > 0:
		auth = append(auth, ssh.PublicKeys(keys...))
	}
	if b.Password != "" {
		auth = append(auth, ssh.Password(b.Password))
		if b.Interactive {
			auth = append(auth, ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = b.Password
				}
				return answers, nil
			}))
		}
	}
	return &guest.Bastion{Addr: hostPort(b.Host, b.Port), User: b.Username, Auth: auth}, nil
}

// loadKey reads a recipe's private key, with its certificate when there is
// one; keyField and certField name them in errors.
func loadKey(keyFile, certFile, keyField, certField string) (ssh.Signer, error) {
	if certFile == "" {
		k, err := guest.LoadKey(keyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyField, err)
		}
		return k, nil
	}
	k, err := guest.LoadCertKey(keyFile, certFile)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", keyField, certField, err)
	}
	return k, nil
}

// openAgent connects to the host's SSH agent once per build.
func openAgent(st *state) error {
	if st.agent != nil {
		return nil
	}
	a, err := guest.OpenAgent(st.opts.SSHAgentSocket)
	if err != nil {
		return fmt.Errorf("ssh_agent_auth: %w", err)
	}
	st.agent = a
	return nil
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// passwords are the source's SSH passwords (the guest's, the bastion's,
// the proxy's), which the build's output masks.
func passwords(s *hcl.QEMUSource) []string {
	var out []string
	for _, pw := range []string{s.SSHPassword, s.SSHBastion.Secret(), s.SSHProxy.Secret()} {
		if pw != "" {
			out = append(out, pw)
		}
	}
	return out
}
