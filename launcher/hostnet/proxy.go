package hostnet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proxy is the guest's only way out (--egress proxy): HTTP requests in
// absolute form and CONNECT tunnels, to the hosts on the allowlist only.
// The list is exact HOST:PORT. A name on it that resolves to a loopback,
// link-local (cloud metadata), multicast or unspecified address is refused
// unless that address is itself on the list: a guest must not reach the
// host's own services or a metadata endpoint through a name someone
// pointed there. The proxy connects to the address it checked.
type Proxy struct {
	Allow    []string // HOST:PORT
	Instance string
	Log      *EventLog
	// Resolve looks names up; nil: the system's resolver.
	Resolve func(ctx context.Context, host string) ([]net.IP, error)
	// DialTimeout bounds a connection to a destination.
	DialTimeout time.Duration
}

// NewProxy makes the proxy of the instance whose files are in dir.
func NewProxy(dir string, c Config) *Proxy {
	allow := c.Allow
	if c.Egress == EgressNone {
		allow = nil
	}
	return &Proxy{Allow: allow, Instance: c.Instance, Log: OpenLog(dir + "/" + EgressLog)}
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hostport, ok := target(r)
	if !ok {
		http.Error(w, "clawimg egress proxy: a proxy request names its destination (CONNECT host:port or http://host/...)", http.StatusBadRequest)
		return
	}
	addr, why := p.check(r.Context(), hostport)
	if why != "" {
		p.Log.Printf("%s %s refused (%s)", r.Method, hostport, why)
		host, port, _ := net.SplitHostPort(hostport)
		add := host
		if port != "443" {
			add = hostport
		}
		msg := fmt.Sprintf("clawimg egress proxy: %s is not allowed for instance %s (%s); allow it at launch with --allow %s\n", hostport, p.Instance, why, add)
		http.Error(w, msg, http.StatusForbidden)
		return
	}
	p.Log.Printf("%s %s allowed", r.Method, hostport)
	if r.Method == http.MethodConnect {
		p.tunnel(w, r, addr)
		return
	}
	p.forward(w, r, addr)
}

// target is the HOST:PORT a proxy request is for.
func target(r *http.Request) (string, bool) {
	if r.Method == http.MethodConnect {
		h, port, err := net.SplitHostPort(r.Host)
		if err != nil || h == "" {
			return "", false
		}
		return net.JoinHostPort(strings.ToLower(h), port), true
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		return "", false // https goes through CONNECT; origin-form is not a proxy request
	}
	port := r.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(strings.ToLower(r.URL.Hostname()), port), true
}

// check says which address to connect to for hostport, or why not.
func (p *Proxy) check(ctx context.Context, hostport string) (string, string) {
	if !slices.Contains(p.Allow, hostport) {
		return "", "not on the allowlist"
	}
	host, port, _ := net.SplitHostPort(hostport)
	if ip := net.ParseIP(host); ip != nil {
		return hostport, "" // an address listed as such
	}
	resolve := p.Resolve
	if resolve == nil {
		resolve = func(ctx context.Context, h string) ([]net.IP, error) {
			return net.DefaultResolver.LookupIP(ctx, "ip", h)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ips, err := resolve(ctx, host)
	if err != nil || len(ips) == 0 {
		return "", "does not resolve"
	}
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
			if !slices.Contains(p.Allow, net.JoinHostPort(ip.String(), port)) {
				return "", "resolves to " + ip.String() + ", a host-local or link-local address"
			}
		}
	}
	return net.JoinHostPort(ips[0].String(), port), ""
}

func (p *Proxy) dial(ctx context.Context, addr string) (net.Conn, error) {
	t := p.DialTimeout
	if t == 0 {
		t = 30 * time.Second
	}
	return (&net.Dialer{Timeout: t}).DialContext(ctx, "tcp", addr)
}

// tunnel splices the guest's connection to addr (a CONNECT).
func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request, addr string) {
	up, err := p.dial(r.Context(), addr)
	if err != nil {
		http.Error(w, "clawimg egress proxy: "+r.Host+" did not answer: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer up.Close()
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "clawimg egress proxy: cannot tunnel", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if n := buf.Reader.Buffered(); n > 0 { // what the guest sent after its CONNECT
			b, _ := buf.Reader.Peek(n)
			up.Write(b)
		}
		io.Copy(up, conn)
		if c, ok := up.(*net.TCPConn); ok {
			c.CloseWrite()
		}
	})
	io.Copy(conn, up)
	closeWrite(conn)
	wg.Wait()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	} else {
		c.Close()
	}
}

// forward sends a plain HTTP request on to addr.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, addr string) {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = r.URL
			pr.Out.Host = r.Host
			pr.Out.Header.Del("Proxy-Authorization")
			pr.Out.Header.Del("Proxy-Connection")
			pr.Out.Header.Del("X-Forwarded-For")
		},
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           func(ctx context.Context, _, _ string) (net.Conn, error) { return p.dial(ctx, addr) },
			ResponseHeaderTimeout: 5 * time.Minute,
			DisableKeepAlives:     true,
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "clawimg egress proxy: "+r.URL.Host+" did not answer: "+err.Error(), http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r)
}

// DefaultAllow is what every instance with --egress proxy may reach
// besides its --allow list: the hosts of the image's apt sources (port 80
// and 443) and the npm registry.
func DefaultAllow(aptHosts []string) []string {
	var out []string
	for _, h := range aptHosts {
		for _, port := range []int{80, 443} {
			hp := net.JoinHostPort(strings.ToLower(h), strconv.Itoa(port))
			if !slices.Contains(out, hp) {
				out = append(out, hp)
			}
		}
	}
	return append(out, "registry.npmjs.org:443")
}
