// Package sshdtest runs OpenSSH's sshd for tests: on a loopback port, with
// its own host key, authorized keys and log, as the guest or the bastion
// the tests' SSH goes to.
package sshdtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Server is a running sshd.
type Server struct {
	Port int
	User string // the user the test runs as, whom it lets in
	// Key is a client key it lets in (unless it was given others);
	// KeyFile holds it for OpenSSH's tools and recipes.
	Key     ssh.Signer
	KeyFile string
	logFile string
	cmd     *exec.Cmd
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Log is what sshd logged so far (at LogLevel DEBUG1: each forwarded
// channel's target, for one).
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

// Stop ends sshd; its files stay in its directory.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// Start runs sshd until the test ends, in a directory of the test's (see
// Run). A machine without sshd skips the test.
func Start(t testing.TB, authorized []string, extra ...string) *Server {
	t.Helper()
	if _, err := Binary(); err != nil {
		t.Skip(err)
	}
	s, err := Run(t.TempDir(), authorized, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Binary is sshd's path.
func Binary() (string, error) {
	if p, err := exec.LookPath("sshd"); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("/usr/sbin/sshd"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no sshd: run make deps (openssh-server)")
}

// Run starts sshd with its files in dir, until Stop. authorized are the
// public keys (authorized_keys lines) it lets in, Key's when nil; extra are
// more sshd_config lines.
func Run(dir string, authorized []string, extra ...string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Server{User: u.Username, logFile: filepath.Join(dir, "sshd.log"), KeyFile: filepath.Join(dir, "id_ed25519")}
	clientPEM, clientPub, err := newKey()
	if err != nil {
		return nil, err
	}
	if s.Key, err = ssh.ParsePrivateKey(clientPEM); err != nil {
		return nil, err
	}
	if authorized == nil {
		authorized = []string{clientPub}
	}
	hostPEM, _, err := newKey()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// sshd's privilege separation directory, which its package's
		// service makes at boot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	config := append([]string{
		"Port " + strconv.Itoa(s.Port), "ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(dir, "host_ed25519"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PidFile none", "StrictModes no", "UsePAM no",
		"PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password", "LogLevel DEBUG1",
		"Subsystem sftp internal-sftp",
	}, extra...)
	for name, b := range map[string][]byte{
		"id_ed25519":      clientPEM,
		"host_ed25519":    hostPEM,
		"authorized_keys": []byte(strings.Join(authorized, "\n") + "\n"),
		"sshd_config":     []byte(strings.Join(config, "\n") + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	s.cmd = exec.Command(bin, "-D", "-E", s.logFile, "-f", filepath.Join(dir, "sshd_config"))
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", s.Addr()); err == nil {
			c.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("sshd did not listen on %s: %s", s.Addr(), s.Log())
		}
	}
}

// newKey makes an ed25519 key: its private half in OpenSSH's PEM, its
// public half as an authorized_keys line.
func newKey() ([]byte, string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "sshdtest")
	if err != nil {
		return nil, "", err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, "", err
	}
	return pem.EncodeToMemory(block), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))), nil
}
