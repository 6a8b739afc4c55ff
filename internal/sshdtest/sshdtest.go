// Package sshdtest runs OpenSSH's sshd for tests: on a loopback port, with
// its own host key, authorized keys and log, as the guest or the bastion
// the tests' SSH goes to.
package sshdtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
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
	// Key is a client key it lets in (unless Start was given others);
	// KeyFile holds it for OpenSSH's tools.
	Key     ssh.Signer
	KeyFile string
	logFile string
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Log is what sshd logged so far (at LogLevel DEBUG1: each forwarded
// channel's target, for one).
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

// Start runs sshd until the test ends. authorized are the public keys
// (authorized_keys lines) it lets in, Key's when none are given; extra are
// more sshd_config lines. A machine without sshd skips the test.
func Start(t testing.TB, authorized []string, extra ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("sshd")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/sshd"); err != nil {
			t.Skip("no sshd: run make deps (openssh-server)")
		}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Server{User: u.Username, logFile: filepath.Join(dir, "sshd.log"), KeyFile: filepath.Join(dir, "id_ed25519")}
	clientPEM, clientPub := newKey(t)
	if s.Key, err = ssh.ParsePrivateKey(clientPEM); err != nil {
		t.Fatal(err)
	}
	write(t, s.KeyFile, clientPEM)
	if authorized == nil {
		authorized = []string{clientPub}
	}
	hostPEM, _ := newKey(t)
	write(t, filepath.Join(dir, "host_ed25519"), hostPEM)
	write(t, filepath.Join(dir, "authorized_keys"), []byte(strings.Join(authorized, "\n")+"\n"))
	if os.Geteuid() == 0 {
		// sshd's privilege separation directory, which its package's
		// service makes at boot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
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
	write(t, filepath.Join(dir, "sshd_config"), []byte(strings.Join(config, "\n")+"\n"))
	cmd := exec.Command(bin, "-D", "-E", s.logFile, "-f", filepath.Join(dir, "sshd_config"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", s.Addr()); err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen: %s", s.Log())
		}
	}
}

// newKey makes an ed25519 key: its private half in OpenSSH's PEM, its
// public half as an authorized_keys line.
func newKey(t testing.TB) ([]byte, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "sshdtest")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
