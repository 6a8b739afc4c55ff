package guest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/clawimg/clawimg/internal/sshdtest"
)

// run waits for the guest (an sshd) along l and runs command.
func run(t *testing.T, l Login, command string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := WaitAuth(ctx, l, nil)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.Output(ctx, command)
}

// TestBastion: the build reaches the guest through a bastion (Packer's
// ssh_bastion_*) that opens the connection itself (its log shows the
// direct-tcpip channel); a bastion that refuses the build's login ends
// the wait at once, saying which bastion.
func TestBastion(t *testing.T) {
	guest := sshdtest.Start(t, nil)
	bastion := sshdtest.Start(t, nil)
	l := Login{
		Route: Route{Bastion: &Bastion{Addr: bastion.Addr(), User: bastion.User, Auth: Auth("", bastion.Key)}},
		Port:  guest.Port, User: guest.User, Auth: Auth("", guest.Key),
	}
	out, err := run(t, l, "echo through $SSH_CONNECTION")
	if err != nil || !strings.HasPrefix(out, "through 127.0.0.1 ") {
		t.Fatalf("through the bastion: %q %v", out, err)
	}
	want := regexp.MustCompile(`direct_tcpip: .* target 127\.0\.0\.1 port ` + strconv.Itoa(guest.Port) + `\b`)
	if !want.MatchString(bastion.Log()) {
		t.Errorf("the bastion's log shows no channel to the guest:\n%s", bastion.Log())
	}

	l.Route.Bastion.Auth = Auth("", guest.Key) // the guest's key, not the bastion's
	start := time.Now()
	_, err = run(t, l, "true")
	if err == nil || !strings.Contains(err.Error(), "bastion "+bastion.User+"@"+bastion.Addr()) || !strings.Contains(err.Error(), "login refused") {
		t.Fatalf("refused by the bastion: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("a refusing bastion was tried for %s", time.Since(start))
	}

	// A bastion that does not forward: the guest is not reached, and
	// the wait ends at once.
	closed := sshdtest.Start(t, nil, "AllowTcpForwarding no")
	l.Route.Bastion = &Bastion{Addr: closed.Addr(), User: closed.User, Auth: Auth("", closed.Key)}
	start = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := WaitAuth(ctx, l, nil); err == nil || !strings.Contains(err.Error(), "open 127.0.0.1:"+strconv.Itoa(guest.Port)+" refused") {
		t.Fatalf("a bastion without forwarding: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("a bastion that does not forward was tried for %s", time.Since(start))
	}
}

// TestSOCKS5Proxy: the build reaches the guest through a SOCKS5 proxy
// (Packer's ssh_proxy_*); the proxy here is OpenSSH's own, ssh -D.
func TestSOCKS5Proxy(t *testing.T) {
	guest := sshdtest.Start(t, nil)
	hop := sshdtest.Start(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := l.Addr().String()
	l.Close()
	ssh := exec.Command("ssh", "-N", "-D", proxyAddr, "-i", hop.KeyFile, "-p", strconv.Itoa(hop.Port),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		hop.User+"@127.0.0.1")
	var sshOut bytes.Buffer
	ssh.Stderr = &sshOut
	if err := ssh.Start(); err != nil {
		t.Skipf("no ssh client: %v", err)
	}
	t.Cleanup(func() { ssh.Process.Kill(); ssh.Wait() })
	login := Login{Route: Route{Proxy: &Proxy{Addr: proxyAddr}}, Port: guest.Port, User: guest.User, Auth: Auth("", guest.Key)}
	out, err := run(t, login, "echo proxied")
	if err != nil || out != "proxied\n" {
		t.Fatalf("through the proxy: %q %v\nssh -D: %s", out, err, &sshOut)
	}
	want := regexp.MustCompile(`direct_tcpip: .* target 127\.0\.0\.1 port ` + strconv.Itoa(guest.Port) + `\b`)
	if !want.MatchString(hop.Log()) {
		t.Errorf("the proxy's server shows no channel to the guest:\n%s", hop.Log())
	}
	// Nothing listens where the proxy is said to be.
	login.Route.Proxy.Addr = "127.0.0.1:1"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := WaitAuth(ctx, login, nil); err == nil || !strings.Contains(err.Error(), "socks5 proxy 127.0.0.1:1") {
		t.Fatalf("no proxy: %v", err)
	}
}

// TestAgentAuthAndForwarding: with the host's agent (ssh_agent_auth) the
// build logs in with a key only the agent holds, and commands in the
// guest see the agent's key (forwarded, as ssh -A); a PTY (ssh_pty) is
// there only when asked for.
func TestAgentAuthAndForwarding(t *testing.T) {
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("no ssh-agent: run make deps")
	}
	inAgent, _ := NewKeyPair("in-agent")
	guest := sshdtest.Start(t, []string{inAgent.AuthorizedKey})
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	agentCmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	keyFile := filepath.Join(dir, "id")
	if err := os.WriteFile(keyFile, inAgent.PrivatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		add := exec.Command("ssh-add", keyFile)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		out, err := add.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh-add: %v %s", err, out)
		}
	}
	a, err := OpenAgent(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	other, _ := NewKeyPair("not-authorized")
	l := Login{Port: guest.Port, User: guest.User, Auth: []ssh.AuthMethod{a.Auth(other.Signer)}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := WaitAuth(ctx, l, nil)
	if err != nil {
		t.Fatalf("with the agent's key: %v", err)
	}
	defer c.Close()
	if err := c.ForwardAgent(a); err != nil {
		t.Fatal(err)
	}
	out, err := c.Output(ctx, "ssh-add -L")
	if err != nil || !strings.Contains(out, strings.Fields(inAgent.AuthorizedKey)[1]) {
		t.Fatalf("the agent in the guest: %q %v", out, err)
	}
	out, _ = c.Output(ctx, "tty || true")
	if !strings.Contains(out, "not a tty") {
		t.Errorf("a command without ssh_pty has a terminal: %q", out)
	}
	c.PTY = true
	out, err = c.Output(ctx, "tty")
	if err != nil || !strings.HasPrefix(out, "/dev/pts/") {
		t.Errorf("a command with ssh_pty: %q %v", out, err)
	}
	// Later sessions of the connection find the agent too.
	if out, err := c.Output(ctx, "ssh-add -L"); err != nil || !strings.Contains(out, strings.Fields(inAgent.AuthorizedKey)[1]) {
		t.Errorf("the agent in a later session: %q %v", out, err)
	}

	// Without the agent the guest does not let the build in.
	l.Auth = Auth("", other.Signer)
	l.Handshakes = 1
	if _, err := WaitAuth(ctx, l, nil); err == nil {
		t.Fatal("in without the agent's key")
	}
	if _, err := OpenAgent(filepath.Join(dir, "none.sock")); err == nil || !strings.Contains(err.Error(), "none.sock") {
		t.Errorf("an agent that is not there: %v", err)
	}
}

// TestCertificate: a guest that trusts a CA, and lists no key, lets in a
// key with the certificate the CA signed for it (Packer's
// ssh_certificate_file), and not the key alone.
func TestCertificate(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("no ssh-keygen: run make deps")
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca")
	keygen := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen %v: %v\n%s", args, err, out)
		}
	}
	keygen("-q", "-t", "ed25519", "-N", "", "-f", ca)
	user, _ := NewKeyPair("certified")
	keyFile := filepath.Join(dir, "id")
	if err := os.WriteFile(keyFile, user.PrivatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile+".pub", []byte(user.AuthorizedKey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	guest := sshdtest.Start(t, []string{}, "TrustedUserCAKeys "+ca+".pub")
	keygen("-q", "-s", ca, "-I", "clawimg-test", "-n", guest.User, keyFile+".pub")

	signer, err := LoadCertKey(keyFile, keyFile+"-cert.pub")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, Login{Port: guest.Port, User: guest.User, Auth: Auth("", signer)}, "echo certified"); err != nil || out != "certified\n" {
		t.Fatalf("with the certificate: %q %v", out, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := WaitAuth(ctx, Login{Port: guest.Port, User: guest.User, Auth: Auth("", user.Signer), Handshakes: 1}, nil); err == nil {
		t.Fatal("the key without its certificate got in")
	}
	// A public key where the certificate should be.
	if _, err := LoadCertKey(keyFile, keyFile+".pub"); err == nil || !strings.Contains(err.Error(), "not a certificate") {
		t.Errorf("a public key as the certificate: %v", err)
	}
}
