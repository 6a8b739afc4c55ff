package launcher

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clawimg/clawimg/launcher/hostnet"
)

// ErrKeyInVM is a key operation on a driver without a key broker: its
// instances hold their key inside the VM.
var ErrKeyInVM = errors.New("the multipass driver has no key broker: the API key is inside the VM")

// ErrNoBroker is an egress or upstream option given to a driver without a
// broker or proxy.
var ErrNoBroker = errors.New("needs the qemu driver (the multipass driver has no key broker or egress proxy)")

// endpointsPath is where the guest reads its addresses (world-readable,
// no secret; README, "The key broker and the egress allowlist").
const endpointsPath = "/etc/clawimg/endpoints"

// guestNet is what an instance's guest is told about where it may go: the
// model provider's base URL (the broker, or the provider itself when the
// key is in the VM) and, with an egress proxy, the proxy.
type guestNet struct {
	BaseURL string
	Proxy   bool
}

// netFor is the guest side of an egress mode on the qemu driver.
func netFor(egress string) guestNet {
	return guestNet{BaseURL: hostnet.BrokerURL, Proxy: egress != hostnet.EgressOpen}
}

// endpoints is /etc/clawimg/endpoints.
func (g guestNet) endpoints() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ANTHROPIC_BASE_URL=%s\n", g.BaseURL)
	if g.Proxy {
		fmt.Fprintf(&b, "HTTPS_PROXY=%s\nHTTP_PROXY=%s\nNO_PROXY=%s,localhost,127.0.0.1,::1\n", hostnet.ProxyURL, hostnet.ProxyURL, hostnet.GuestIP)
	}
	return b.String()
}

// gatewayEnv is the OpenClaw gateway's ~/.openclaw/.env: its token, the
// key (the broker's placeholder when the key stays on the host) and the
// endpoints (Node's fetch takes the proxy from the environment only with
// NODE_USE_ENV_PROXY).
func (g guestNet) gatewayEnv(token, apiKey string) string {
	var b strings.Builder
	if token != "" {
		fmt.Fprintf(&b, "OPENCLAW_GATEWAY_TOKEN=%s\n", token)
	}
	if apiKey == "" {
		apiKey = hostnet.PlaceholderKey
	}
	fmt.Fprintf(&b, "ANTHROPIC_API_KEY=%s\n", apiKey)
	b.WriteString(g.endpoints())
	if g.Proxy {
		fmt.Fprintf(&b, "http_proxy=%s\nhttps_proxy=%s\nno_proxy=%s,localhost,127.0.0.1,::1\nNODE_USE_ENV_PROXY=1\n", hostnet.ProxyURL, hostnet.ProxyURL, hostnet.GuestIP)
	}
	return b.String()
}

// id names the setup, for a warm state: an instance whose setup is another
// restarts the gateway, which read its environment when it started.
func (g guestNet) id() string { return "clawimg-guest-1\n" + g.endpoints() }

// applyEndpoints makes the guest use /etc/clawimg/endpoints: apt (and so
// unattended upgrades) through the proxy, and login shells with the
// variables. Run as root, after the file is written.
const applyEndpoints = `f=` + endpointsPath + `
proxy=$(sed -n 's/^HTTP_PROXY=//p' "$f")
if [ -n "$proxy" ]; then
  printf 'Acquire::http::Proxy "%s";\nAcquire::https::Proxy "%s";\n' "$proxy" "$proxy" > /etc/apt/apt.conf.d/80clawimg-proxy
else
  rm -f /etc/apt/apt.conf.d/80clawimg-proxy
fi
cat > /etc/profile.d/clawimg-endpoints.sh <<'PROFILE'
# clawimg: where the model broker and the egress proxy are (/etc/clawimg/endpoints).
set -a; . /etc/clawimg/endpoints; set +a
[ -z "${HTTP_PROXY:-}" ] || { http_proxy=$HTTP_PROXY; https_proxy=$HTTPS_PROXY; no_proxy=$NO_PROXY; export http_proxy https_proxy no_proxy; }
PROFILE
`

// writeHostnet writes a qemu instance's host network settings and key
// into its directory.
func writeHostnet(dir string, c hostnet.Config, caPEM []byte, key string) error {
	if err := hostnet.WriteConfig(dir, c, caPEM); err != nil {
		return err
	}
	return hostnet.SetKey(dir, key)
}

// SecretSet replaces an instance's API key on the host; the broker uses it
// from the next request on.
func (m *Manager) SecretSet(name, key string) error {
	r, d, err := m.withDriver(name)
	if err != nil {
		return err
	}
	if !d.Caps().Broker || r.Egress == "" {
		return fmt.Errorf("secret set %s: %w", name, ErrKeyInVM)
	}
	if err := hostnet.SetKey(r.Dir, key); err != nil {
		return fmt.Errorf("secret set %s: %w", name, err)
	}
	return nil
}

// prepareNet sets up where an instance's guest may go and returns what the
// guest is told, and the key that goes into the VM ("" when it stays on
// the host). On the qemu driver it writes the instance's broker and proxy
// settings and its key (0600) into its directory; a driver without a
// broker gets the key in the VM and refuses what only a broker or proxy
// can do.
func (m *Manager) prepareNet(d Driver, rec *Record, o LaunchOptions) (guestNet, string, error) {
	if o.APIKey != "" {
		if err := hostnet.CheckKey(o.APIKey); err != nil {
			return guestNet{}, "", err
		}
	}
	if o.ProviderURL != "" {
		if err := hostnet.CheckProviderURL(o.ProviderURL); err != nil {
			return guestNet{}, "", err
		}
	}
	if !d.Caps().Broker {
		switch {
		case o.Egress != "" && o.Egress != hostnet.EgressOpen:
			return guestNet{}, "", fmt.Errorf("egress %s %w", o.Egress, ErrNoBroker)
		case len(o.Allow) > 0:
			return guestNet{}, "", fmt.Errorf("an egress allowlist %w", ErrNoBroker)
		case len(o.CACert) > 0:
			return guestNet{}, "", fmt.Errorf("CA certificates for the upstream %w", ErrNoBroker)
		}
		base := o.ProviderURL
		if base == "" {
			base = hostnet.DefaultUpstream
		}
		return guestNet{BaseURL: base}, o.APIKey, nil
	}
	if len(m.cfg.Helper) == 0 {
		return guestNet{}, "", errors.New("launcher: no guestfwd helper configured (Config.Helper)")
	}
	egress := o.Egress
	if egress == "" {
		egress = hostnet.EgressProxy
	}
	if err := hostnet.CheckEgress(egress); err != nil {
		return guestNet{}, "", err
	}
	if len(o.Allow) > 0 && egress != hostnet.EgressProxy {
		return guestNet{}, "", fmt.Errorf("an allowlist needs egress %s, not %s", hostnet.EgressProxy, egress)
	}
	allow := hostnet.DefaultAllow(aptHosts())
	for _, a := range o.Allow {
		hp, err := hostnet.ParseAllow(a)
		if err != nil {
			return guestNet{}, "", err
		}
		allow = append(allow, hp)
	}
	rec.Egress = egress
	c := hostnet.Config{Instance: rec.Name, Egress: egress, Upstream: o.ProviderURL, Allow: allow}
	if err := writeHostnet(rec.Dir, c, o.CACert, o.APIKey); err != nil {
		return guestNet{}, "", err
	}
	return netFor(egress), "", nil
}

// aptHosts are the package archives an instance's apt may reach through
// the proxy: Debian's and Ubuntu's (the images clawimg builds on) and
// NodeSource's (the built-in recipe's Node.js).
func aptHosts() []string {
	return []string{"deb.debian.org", "security.debian.org", "archive.ubuntu.com", "security.ubuntu.com",
		"ports.ubuntu.com", "deb.nodesource.com"}
}
