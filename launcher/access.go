package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"

	"github.com/clawimg/clawimg/internal/guest"
)

// Copy copies a file or directory between the host and an instance.
func (m *Manager) Copy(ctx context.Context, name string, c Copy) error {
	r, d, err := m.withDriver(name)
	if err != nil {
		return err
	}
	if c.Host == "" || c.Guest == "" {
		return errors.New("copy: a path is empty")
	}
	return d.Copy(ctx, r, c)
}

// SSHHost is what an OpenSSH client needs to log into an instance.
type SSHHost struct {
	Name         string
	HostName     string
	Port         int
	User         string
	IdentityFile string
	// Err says why the instance cannot be reached now (stopped, say);
	// the other fields are then empty.
	Err error
}

// SSHHosts describes how to reach the named instances (all when none
// are named) with their own keys.
func (m *Manager) SSHHosts(ctx context.Context, names []string) ([]SSHHost, error) {
	if len(names) == 0 {
		all, err := m.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, l := range all {
			names = append(names, l.Name)
		}
	}
	var hosts []SSHHost
	for _, n := range names {
		r, d, err := m.withDriver(n)
		if err != nil {
			return nil, err
		}
		h := SSHHost{Name: r.Name}
		if host, port, err := d.Address(ctx, r); err != nil {
			h.Err = err
		} else {
			h.HostName, h.Port, h.User, h.IdentityFile = host, port, r.User, r.KeyPath()
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// Tunnel forwards each connection to l (a listener on the host's
// loopback) to guestPort on the instance's loopback, through the
// instance's SSH, until ctx ends or the instance goes away.
func (m *Manager) Tunnel(ctx context.Context, name string, l net.Listener, guestPort int) error {
	r, d, err := m.withDriver(name)
	if err != nil {
		return err
	}
	host, port, err := d.Address(ctx, r)
	if err != nil {
		return err
	}
	c, err := DialInstance(ctx, r, host, port)
	if err != nil {
		return fmt.Errorf("ssh to %s: %w", name, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { l.Close(); c.Close() })
	defer stop()
	lost := make(chan error, 1)
	go func() { lost <- c.Wait() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	target := net.JoinHostPort("127.0.0.1", strconv.Itoa(guestPort))
	for {
		conn, err := l.Accept()
		if err != nil {
			select {
			case <-ctx.Done():
				return nil
			default:
			}
			select {
			case err := <-lost:
				return fmt.Errorf("the connection to %s ended: %v", name, err)
			default:
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			defer context.AfterFunc(ctx, func() { conn.Close() })()
			remote, err := c.Dial("tcp", target)
			if err != nil {
				m.log.Warn("tunnel: the instance refused the connection", "instance", name, "port", guestPort, "err", err)
				return
			}
			defer remote.Close()
			pipe(conn, remote)
		}()
	}
}

// DialInstance logs into an instance at host:port as its user, with its
// own key.
func DialInstance(ctx context.Context, r *Record, host string, port int) (*guest.Client, error) {
	signer, err := guest.LoadKey(r.KeyPath())
	if err != nil {
		return nil, err
	}
	return guest.DialAddr(ctx, net.JoinHostPort(host, strconv.Itoa(port)), r.User, signer)
}

// pipe copies both ways until either side is done.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}
