package guest

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// serveSSH runs an SSH server on a loopback port for the test, with cfg
// (a host key is added) and each channel handed to handle.
func serveSSH(t *testing.T, cfg *ssh.ServerConfig, handle func(ssh.NewChannel)) int {
	t.Helper()
	hostKey, err := NewKeyPair("host")
	if err != nil {
		t.Fatal(err)
	}
	cfg.AddHostKey(hostKey.Signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
				if err != nil {
					return
				}
				go ssh.DiscardRequests(reqs)
				for nc := range chans {
					handle(nc)
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// A minimal SSH server that answers every exec with a line on stdout, a
// line on stderr and status 3, to test Run's plumbing without a VM.
func testServer(t *testing.T, kp *KeyPair) int {
	t.Helper()
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) == string(kp.Signer.PublicKey().Marshal()) {
			return nil, nil
		}
		return nil, io.EOF
	}}
	return serveSSH(t, cfg, func(nc ssh.NewChannel) {
		ch, creqs, _ := nc.Accept()
		go func() {
			for r := range creqs {
				if r.Type == "exec" {
					r.Reply(true, nil)
					io.WriteString(ch, strings.Repeat("out ", 4000)+"\n")
					io.WriteString(ch.Stderr(), "err\n")
					ch.SendRequest("exit-status", false, ssh.Marshal(struct{ C uint32 }{3}))
					ch.Close()
				}
			}
		}()
	})
}

func TestRunKeepsOutputWhenStdoutIsStderr(t *testing.T) {
	kp, err := NewKeyPair("test")
	if err != nil {
		t.Fatal(err)
	}
	port := testServer(t, kp)
	c, err := DialAddr(context.Background(), net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "u", kp.Signer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 20 {
		var both bytes.Buffer
		code, err := c.Run(context.Background(), "x", nil, &both, &both)
		if err != nil || code != 3 || !strings.Contains(both.String(), "out out") || !strings.Contains(both.String(), "err") {
			t.Fatalf("code %d err %v output %d bytes", code, err, both.Len())
		}
	}
	if !Banner(context.Background(), port) {
		t.Fatal("no SSH banner")
	}
	if q := Quote("it's"); q != `'it'"'"'s'` || Quote("plain-word") != "plain-word" || Quote("") != "''" {
		t.Fatalf("quote: %s", q)
	}
}

// TestPasswordAfterTheKey: a guest that does not know clawimg's key lets
// it in with the recipe's password (Packer's ssh_password); without the
// password it does not.
func TestPasswordAfterTheKey(t *testing.T) {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, io.EOF },
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == "vagrant" && string(pw) == "s3cret" {
				return nil, nil
			}
			return nil, io.EOF
		},
	}
	port := serveSSH(t, cfg, func(nc ssh.NewChannel) { nc.Reject(ssh.Prohibited, "no") })
	kp, _ := NewKeyPair("clawimg")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := WaitAuth(ctx, Login{Port: port, User: "vagrant", Auth: Auth("s3cret", kp.Signer)}, nil)
	if err != nil {
		t.Fatalf("with the password: %v", err)
	}
	c.Close()
	// A server that answers but never lets the build in: given up after
	// the handshakes allowed, long before the time-out.
	start := time.Now()
	_, err = WaitAuth(context.Background(), Login{Port: port, User: "vagrant", Auth: Auth("wrong", kp.Signer), Handshakes: 2}, nil)
	if err == nil || !strings.Contains(err.Error(), "2 handshakes failed") || time.Since(start) > 10*time.Second {
		t.Fatalf("wrong password, 2 handshakes: %v after %s", err, time.Since(start))
	}
	if _, err := DialAddr(context.Background(), net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "vagrant", kp.Signer); err == nil {
		t.Fatal("the key alone got in")
	}
}

// TestSecondKey: a guest that knows only the recipe's key
// (ssh_private_key_file) lets the build in with it, after clawimg's own.
func TestSecondKey(t *testing.T) {
	own, _ := NewKeyPair("clawimg")
	recipe, _ := NewKeyPair("recipe")
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(k.Marshal(), recipe.Signer.PublicKey().Marshal()) {
				return nil, nil
			}
			return nil, io.EOF
		},
	}
	port := serveSSH(t, cfg, func(nc ssh.NewChannel) { nc.Reject(ssh.Prohibited, "no") })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := WaitAuth(ctx, Login{Port: port, User: "debian", Auth: Auth("", own.Signer, recipe.Signer)}, nil)
	if err != nil {
		t.Fatalf("with the recipe's key second: %v", err)
	}
	c.Close()
}
