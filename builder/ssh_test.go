package builder

import (
	"strings"
	"testing"

	"github.com/clawimg/clawimg/hcl"
	"github.com/clawimg/clawimg/internal/guest"
)

// TestSSHLogin: the recipe's SSH fields become the build's way in: the
// route (bastion or proxy, with their addresses and users), its ways to
// log in, and an agent that must be there when asked for.
func TestSSHLogin(t *testing.T) {
	key, err := guest.NewKeyPair("build")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		src     hcl.QEMUSource
		bastion string // "user@host:port", or "" for none
		proxy   string // "user@host:port", or ""
		auth    int    // ways to log in to the guest
		err     string
	}{
		{name: "direct", src: hcl.QEMUSource{SSHUsername: "debian"}, auth: 1},
		{name: "password", src: hcl.QEMUSource{SSHUsername: "debian", SSHPassword: "pw"}, auth: 2},
		{name: "bastion", src: hcl.QEMUSource{SSHUsername: "debian",
			SSHBastion: &hcl.SSHBastion{Host: "jump.example", Port: 2222, Username: "ci", Password: "pw"}},
			bastion: "ci@jump.example:2222", auth: 1},
		{name: "proxy", src: hcl.QEMUSource{SSHUsername: "debian",
			SSHProxy: &hcl.SSHProxy{Host: "127.0.0.1", Port: 1080, Username: "u", Password: "p"}},
			proxy: "u@127.0.0.1:1080", auth: 1},
		{name: "agent without one", src: hcl.QEMUSource{SSHUsername: "debian", SSHAgentAuth: true},
			err: "ssh_agent_auth: no ssh agent: SSH_AUTH_SOCK is not set"},
		{name: "bastion agent without one", src: hcl.QEMUSource{SSHUsername: "debian",
			SSHBastion: &hcl.SSHBastion{Host: "jump.example", Port: 22, Username: "ci", AgentAuth: true}},
			err: "ssh_agent_auth: no ssh agent"},
		{name: "unreadable key", src: hcl.QEMUSource{SSHUsername: "debian", SSHPrivateKeyFile: "/nonexistent/key"},
			err: "ssh_private_key_file: open /nonexistent/key"},
		{name: "unreadable bastion key", src: hcl.QEMUSource{SSHUsername: "debian",
			SSHBastion: &hcl.SSHBastion{Host: "jump.example", Port: 22, Username: "ci", PrivateKeyFile: "/nonexistent/key"}},
			err: "ssh_bastion_private_key_file: open /nonexistent/key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			st := &state{source: &src, key: key, port: 2900}
			l, err := sshLogin(st)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Port != 2900 || l.User != "debian" || len(l.Auth) != tc.auth {
				t.Errorf("login %d %s with %d ways, want 2900 debian %d", l.Port, l.User, len(l.Auth), tc.auth)
			}
			var bastion, proxy string
			if b := l.Route.Bastion; b != nil {
				bastion = b.User + "@" + b.Addr
				if len(b.Auth) == 0 {
					t.Error("a bastion with no way to log in")
				}
			}
			if p := l.Route.Proxy; p != nil {
				proxy = p.User + "@" + p.Addr
			}
			if bastion != tc.bastion || proxy != tc.proxy {
				t.Errorf("route bastion %q proxy %q, want %q %q", bastion, proxy, tc.bastion, tc.proxy)
			}
		})
	}
}

// TestPasswordsAreMasked: the guest's, the bastion's and the proxy's
// passwords are all among what the build's output masks.
func TestPasswordsAreMasked(t *testing.T) {
	src := &hcl.QEMUSource{SSHPassword: "guest-pw", SSHBastion: &hcl.SSHBastion{Password: "jump-pw"}, SSHProxy: &hcl.SSHProxy{Password: "socks-pw"}}
	if got := strings.Join(passwords(src), ","); got != "guest-pw,jump-pw,socks-pw" {
		t.Errorf("masked %q", got)
	}
	if got := passwords(&hcl.QEMUSource{}); len(got) != 0 {
		t.Errorf("masked %q without passwords", got)
	}
}
