// Package guest talks to a VM over SSH: it waits for sshd, runs commands
// with their output streamed, and copies files with SFTP.
package guest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// KeyPair is an ed25519 key for one build or instance.
type KeyPair struct {
	Signer        ssh.Signer
	PrivatePEM    []byte // OpenSSH format, for `ssh -i`
	AuthorizedKey string // "ssh-ed25519 AAAA... comment"
}

// NewKeyPair makes a fresh key; comment ends up in authorized_keys, so it
// can be found and removed there.
func NewKeyPair(comment string) (*KeyPair, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	line := string(ssh.MarshalAuthorizedKey(sshPub))
	return &KeyPair{
		Signer:        signer,
		PrivatePEM:    pem.EncodeToMemory(block),
		AuthorizedKey: line[:len(line)-1] + " " + comment,
	}, nil
}

// LoadKey reads a private key written by NewKeyPair.
func LoadKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ssh.ParsePrivateKey(b)
}

// LoadCertKey reads a private key and the certificate a CA signed for it
// (ssh-keygen -s): the server lets it in by trusting the CA, whatever its
// authorized_keys (Packer's ssh_certificate_file).
func LoadCertKey(keyPath, certPath string) (ssh.Signer, error) {
	key, err := LoadKey(keyPath)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return nil, fmt.Errorf("%s: a public key (%s), not a certificate", certPath, pub.Type())
	}
	signer, err := ssh.NewCertSigner(cert, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	return signer, nil
}

// Client is an SSH connection to a guest.
type Client struct {
	*ssh.Client
	addr, user string
	// PTY gives Run's commands a pseudo-terminal (Packer's ssh_pty).
	PTY bool
	// forwardAgent asks for the host's SSH agent in every session;
	// agentForwarded is set once a session got it.
	forwardAgent   bool
	agentForwarded atomic.Bool
}

// DialAddr connects once to addr (host:port).
func DialAddr(ctx context.Context, addr, user string, signer ssh.Signer) (*Client, error) {
	return dial(ctx, Route{}, addr, user, Auth("", signer))
}

// Auth is the keys, then the password when there is one (Packer's
// ssh_password, for guests without clawimg's key).
func Auth(password string, keys ...ssh.Signer) []ssh.AuthMethod {
	auth := []ssh.AuthMethod{ssh.PublicKeys(keys...)}
	if password != "" {
		auth = append(auth, ssh.Password(password))
	}
	return auth
}

func dial(ctx context.Context, route Route, addr, user string, auth []ssh.AuthMethod) (*Client, error) {
	conn, err := route.dialTCP(ctx, addr)
	if err != nil {
		return nil, err
	}
	return handshake(ctx, conn, addr, user, auth)
}

// handshake logs in over conn (to addr, for messages); conn is closed if
// that fails.
func handshake(ctx context.Context, conn net.Conn, addr, user string, auth []ssh.AuthMethod) (*Client, error) {
	cfg := &ssh.ClientConfig{
		User: user,
		Auth: auth,
		// A fresh VM's host key is new by definition; the connection goes to
		// a loopback port forwarded by QEMU or to the VM's address on the
		// hypervisor's host-only network. A bastion named in a recipe is
		// trusted on first use too: the build keeps no known_hosts.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	}
	// The handshake is bounded by ctx and 20 s; a channel through a
	// bastion has no deadlines of its own, so closing is the bound.
	hung := time.AfterFunc(20*time.Second, func() { conn.Close() })
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	hung.Stop()
	stop()
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &Client{Client: ssh.NewClient(c, chans, reqs), addr: addr, user: user}, nil
}

// Wait dials until sshd lets the key in, ctx ends, or alive reports the VM
// gone. It returns the last dial error with the timeout.
func Wait(ctx context.Context, port int, user string, signer ssh.Signer, alive func() error) (*Client, error) {
	return WaitAuth(ctx, Login{Port: port, User: user, Auth: Auth("", signer)}, alive)
}

// Login is what WaitAuth connects with: the guest's forwarded port, the
// route to it, the user and the ways to authenticate, tried in order.
type Login struct {
	Route Route
	Port  int
	User  string
	Auth  []ssh.AuthMethod
	// Handshakes ends the wait after that many failed handshakes (0:
	// never) with a server that answered, as Packer's
	// ssh_handshake_attempts: an installer's own sshd, say, that will
	// never take the build's credentials.
	Handshakes int
}

// WaitAuth is Wait with a Login: its route, several ways to log in, and a
// bound on failed handshakes.
func WaitAuth(ctx context.Context, l Login, alive func() error) (*Client, error) {
	var last error
	addr := forwarded(l.Port)
	where := l.User + "@" + addr + l.Route.via()
	failed := 0
	for {
		c, err := dial(ctx, l.Route, addr, l.User, l.Auth)
		if err == nil {
			return c, nil
		}
		last = err
		if errors.Is(err, errBastionRefused) {
			return nil, fmt.Errorf("ssh to %s: %w", where, err)
		}
		if _, refused := errors.AsType[*net.OpError](err); !refused && l.Handshakes > 0 {
			if failed++; failed >= l.Handshakes {
				return nil, fmt.Errorf("ssh to %s: %d handshakes failed (last: %w)", where, failed, err)
			}
		}
		if alive != nil {
			if err := alive(); err != nil {
				return nil, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ssh to %s: %w (last attempt: %v)", where, ctx.Err(), last)
		case <-time.After(2 * time.Second):
		}
	}
}

// ErrDisconnected is returned when the connection dropped before the
// command reported its exit status (a reboot, for instance).
var ErrDisconnected = errors.New("connection lost before the command exited")

// Run runs a command with stdout and stderr streamed, and returns its exit
// status. ctx ending closes the session.
func (c *Client) Run(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	s, err := c.NewSession()
	if err != nil {
		return -1, err
	}
	defer s.Close()
	if c.forwardAgent {
		// OpenSSH's sshd makes one agent socket per connection and
		// denies the request in later sessions, whose commands still
		// find the socket: only a first denial is an error.
		if err := agent.RequestAgentForwarding(s); err == nil {
			c.agentForwarded.Store(true)
		} else if !c.agentForwarded.Load() {
			return -1, fmt.Errorf("ask for agent forwarding: %w", err)
		}
	}
	if c.PTY {
		if err := s.RequestPty("xterm", 40, 120, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
			return -1, fmt.Errorf("ask for a pty: %w", err)
		}
	}
	s.Stdin, s.Stdout, s.Stderr = stdin, stdout, stderr
	if stdout != nil && stdout == stderr {
		// The session copies both streams at once; one writer (a
		// bytes.Buffer, say) must not see two concurrent io.Copy calls,
		// whose ReadFrom would lose output.
		w := &lockedWriter{w: stdout}
		s.Stdout, s.Stderr = w, w
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(command) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGKILL)
		s.Close()
		return -1, ctx.Err()
	}
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitStatus(), nil
	case errors.As(err, &missing), errors.Is(err, io.EOF):
		return -1, ErrDisconnected
	}
	return -1, err
}

// Output runs a command and returns its standard output; a non-zero exit
// status is an error carrying its standard error.
func (c *Client) Output(ctx context.Context, command string) (string, error) {
	var out, errb limitedBuffer
	code, err := c.Run(ctx, command, nil, &out, &errb)
	if err != nil {
		return out.String(), err
	}
	if code != 0 {
		return out.String(), fmt.Errorf("%q exited %d: %s", command, code, errb.String())
	}
	return out.String(), nil
}

// Upload writes data to path in the guest with mode perm.
func (c *Client) Upload(path string, data io.Reader, perm os.FileMode) error {
	sc, err := sftp.NewClient(c.Client)
	if err != nil {
		return fmt.Errorf("sftp: %w", err)
	}
	defer sc.Close()
	f, err := sc.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if _, err := io.Copy(f, data); err != nil {
		f.Close()
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("upload %s: %w", path, err)
	}
	return f.Close()
}

// SFTP opens an SFTP session for several transfers.
func (c *Client) SFTP() (*sftp.Client, error) { return sftp.NewClient(c.Client) }

// lockedWriter serializes writes and hides any ReadFrom of the writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if len(l.b) < 1<<20 {
		l.b = append(l.b, p[:min(len(p), 1<<20-len(l.b))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }

// Banner reports whether an SSH server answers on the loopback port. The
// guest's sshd sends its banner only once it has forked (and re-executed
// itself) for the connection, which under emulation, with other VMs
// busy, took more than half a second: it is given 3 s.
func Banner(ctx context.Context, port int) bool {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", forwarded(port))
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4)
	n, _ := io.ReadFull(conn, buf)
	return n == 4 && string(buf) == "SSH-"
}

// Quote quotes s as one word for a POSIX shell; plain words stay as they are.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
