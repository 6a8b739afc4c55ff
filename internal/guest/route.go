package guest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/net/proxy"
)

// Route is how SSH reaches a guest's port, forwarded on this host's
// loopback: from this host (the zero Route), through an SSH bastion, or
// through a SOCKS5 proxy, as Packer's ssh_bastion_* and ssh_proxy_* say.
type Route struct {
	Bastion *Bastion
	Proxy   *Proxy
}

// Bastion is an SSH server that opens the connection to the guest (a
// direct-tcpip channel, as `ssh -J` does).
type Bastion struct {
	Addr string // host:port
	User string
	Auth []ssh.AuthMethod
}

// Proxy is a SOCKS5 proxy that opens the connection to the guest.
type Proxy struct {
	Addr           string // host:port
	User, Password string // none when User is empty
}

// forwarded is the address of a guest's port forwarded on the loopback.
func forwarded(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// via says how the route goes, for messages.
func (r Route) via() string {
	switch {
	case r.Bastion != nil:
		return " through bastion " + r.Bastion.User + "@" + r.Bastion.Addr
	case r.Proxy != nil:
		return " through SOCKS5 proxy " + r.Proxy.Addr
	}
	return ""
}

// dialTCP opens a connection to addr along the route.
func (r Route) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	switch {
	case r.Bastion != nil:
		return r.Bastion.dial(ctx, addr)
	case r.Proxy != nil:
		var auth *proxy.Auth
		if r.Proxy.User != "" {
			auth = &proxy.Auth{User: r.Proxy.User, Password: r.Proxy.Password}
		}
		d, err := proxy.SOCKS5("tcp", r.Proxy.Addr, auth, &net.Dialer{Timeout: 5 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("socks5 proxy %s: %w", r.Proxy.Addr, err)
		}
		c, err := d.(proxy.ContextDialer).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("socks5 proxy %s: %w", r.Proxy.Addr, err)
		}
		return c, nil
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}

// dial logs in to the bastion and opens a channel from it to addr; the
// bastion's connection closes with the returned one.
func (b *Bastion) dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", b.Addr)
	if err != nil {
		return nil, fmt.Errorf("bastion %s: %w", b.Addr, err)
	}
	client, err := handshake(ctx, conn, b.Addr, b.User, b.Auth)
	if err != nil {
		return nil, fmt.Errorf("bastion %s@%s: login %w: %w", b.User, b.Addr, errBastionRefused, err)
	}
	tunnel, err := client.DialContext(ctx, "tcp", addr)
	if err != nil {
		client.Close()
		if oc, ok := errors.AsType[*ssh.OpenChannelError](err); ok && oc.Reason == ssh.Prohibited {
			return nil, fmt.Errorf("bastion %s@%s: open %s %w: %w", b.User, b.Addr, addr, errBastionRefused, err)
		}
		return nil, fmt.Errorf("bastion %s@%s: open %s: %w", b.User, b.Addr, addr, err)
	}
	return &bastionConn{Conn: tunnel, bastion: client.Client}, nil
}

// errBastionRefused is a bastion that answered and would not let the
// build in, or not forward its connection: waiting does not change that.
var errBastionRefused = errors.New("refused")

// bastionConn is a channel through a bastion that takes the bastion's
// connection with it when closed.
type bastionConn struct {
	net.Conn
	bastion *ssh.Client
	once    sync.Once
}

func (c *bastionConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.bastion.Close() })
	return err
}
