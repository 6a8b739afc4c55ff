// Package hostnet is what an instance of the qemu driver reaches on the
// host: a broker that adds the instance's API key to its model provider's
// requests, and an egress proxy that lets through only the hosts on the
// instance's allowlist. QEMU's user network (restrict=on) hands each guest
// connection to one of them as a process of its own (guestfwd=...-cmd:),
// so there is no daemon: a helper lives as long as its connection, reads
// the instance's settings and key from the instance's directory when it
// starts, and dies with its VM.
package hostnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clawimg/clawimg/internal/atomicfile"
)

// Addresses the guest uses. QEMU forwards them to a helper on the host.
const (
	GuestIP    = "10.0.2.100"
	BrokerPort = 80
	ProxyPort  = 3128
)

// BrokerURL and ProxyURL are how the guest names the broker and the proxy.
var (
	BrokerURL = "http://" + GuestIP // port 80
	ProxyURL  = "http://" + net.JoinHostPort(GuestIP, strconv.Itoa(ProxyPort))
)

// Egress modes of an instance.
const (
	EgressProxy = "proxy" // through the proxy, to the allowlist only
	EgressNone  = "none"  // the broker only
	EgressOpen  = "open"  // plain NAT: anything, directly
)

// DefaultUpstream is where the broker forwards by default.
const DefaultUpstream = "https://api.anthropic.com"

// Files in an instance's directory.
const (
	ConfigFile = "hostnet.json"
	KeyFile    = "api-key"
	CAFile     = "upstream-ca.pem"
	BrokerLog  = "broker.log"
	EgressLog  = "egress.log"
)

// PlaceholderKey is what the guest's OpenClaw sends as its API key: not a
// secret, never forwarded (the broker replaces it).
const PlaceholderKey = "clawimg-broker-placeholder-not-a-key"

// Config is an instance's host network settings (hostnet.json). It holds
// no secret: the key is in its own file.
type Config struct {
	Instance string   `json:"instance"`
	Egress   string   `json:"egress"`
	Upstream string   `json:"upstream"`
	Allow    []string `json:"allow"` // HOST:PORT, exact
}

// CheckEgress says whether mode is an egress mode.
func CheckEgress(mode string) error {
	switch mode {
	case EgressProxy, EgressNone, EgressOpen:
		return nil
	}
	return fmt.Errorf("egress %q: want %s, %s or %s", mode, EgressProxy, EgressNone, EgressOpen)
}

// ErrBadAllow is an --allow entry that is not HOST[:PORT].
var ErrBadAllow = errors.New("want HOST or HOST:PORT (a name or an address, no scheme, path or wildcard)")

// ParseAllow turns HOST[:PORT] into HOST:PORT (port 443 by default), the
// host in lower case. URLs, wildcards, empty hosts and bad ports are
// refused: the list is exact, so a user who wrote a pattern would be
// surprised by what it does not match.
func ParseAllow(s string) (string, error) {
	bad := func() (string, error) { return "", fmt.Errorf("allow %q: %w", s, ErrBadAllow) }
	if s == "" || strings.ContainsAny(s, "/*?@ \t\r\n#%\\,") || strings.Contains(s, "://") {
		return bad()
	}
	host, port := s, "443"
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") == 1 {
		return bad() // "host:" or ":port" or a bad port
	} else if strings.Contains(s, ":") {
		if ip := net.ParseIP(strings.Trim(s, "[]")); ip == nil {
			return bad()
		}
		host = strings.Trim(s, "[]") // a bare IPv6 address
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || host == "" {
		return bad()
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) == nil && !validName(host) {
		return bad()
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// validName is a DNS name: labels of letters, digits, '-' and '_'.
func validName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// CheckProviderURL accepts an https:// URL with a host and no query,
// user or fragment (http:// only to a loopback address, for tests and
// local model servers).
func CheckProviderURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("provider URL %q: %w", s, err)
	}
	switch {
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("provider URL %q: want https://HOST[:PORT][/PATH]", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("provider URL %q: want https:// (http:// only to a loopback address)", s)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WriteConfig writes an instance's settings, and the CA certificates its
// broker trusts for the upstream (none: the system's only).
func WriteConfig(dir string, c Config, caPEM []byte) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if len(caPEM) > 0 {
		if err := atomicfile.WriteFile(filepath.Join(dir, CAFile), caPEM, 0o600); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(filepath.Join(dir, ConfigFile), b, 0o600)
}

// ReadConfig reads an instance's settings.
func ReadConfig(dir string) (Config, error) {
	var c Config
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return c, nil
}

// SetKey replaces an instance's API key on the host (0600, atomically);
// an empty key removes it.
func SetKey(dir, key string) error {
	p := filepath.Join(dir, KeyFile)
	if key == "" {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := CheckKey(key); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, []byte(key+"\n"), 0o600)
}

// CheckKey refuses a key that is not one word on one line: it goes into an
// HTTP header.
func CheckKey(key string) error {
	if key == "" || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '\'' }) {
		return errors.New("the API key must be one word on one line")
	}
	return nil
}

// readKey reads the instance's key ("" when there is none).
func readKey(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(b)), err
}
