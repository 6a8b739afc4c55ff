package launcher

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/launcher/hostnet"
)

func TestGuestSetup(t *testing.T) {
	proxy, open := netFor(hostnet.EgressProxy), netFor(hostnet.EgressOpen)
	if netFor(hostnet.EgressNone) != proxy {
		t.Error("egress none tells the guest something else than proxy: a warm state's gateway would be restarted")
	}
	if proxy.id() == open.id() {
		t.Error("egress open has the warm VM's guest setup")
	}
	env := proxy.gatewayEnv("TOKEN", "")
	for _, want := range []string{"OPENCLAW_GATEWAY_TOKEN=TOKEN\n", "ANTHROPIC_API_KEY=" + hostnet.PlaceholderKey + "\n",
		"ANTHROPIC_BASE_URL=http://10.0.2.100\n", "HTTPS_PROXY=http://10.0.2.100:3128\n", "NODE_USE_ENV_PROXY=1\n", "NO_PROXY=10.0.2.100,"} {
		if !strings.Contains(env, want) {
			t.Errorf("proxy .env lacks %q:\n%s", want, env)
		}
	}
	if e := open.gatewayEnv("T", ""); strings.Contains(e, "PROXY") || !strings.Contains(e, "ANTHROPIC_BASE_URL=http://10.0.2.100\n") {
		t.Errorf("open .env:\n%s", e)
	}
	// A driver without a broker: the key itself and the provider.
	inVM := guestNet{BaseURL: hostnet.DefaultUpstream}
	if e := inVM.gatewayEnv("T", "sk-ant-x"); !strings.Contains(e, "ANTHROPIC_API_KEY=sk-ant-x\n") || !strings.Contains(e, "ANTHROPIC_BASE_URL=https://api.anthropic.com\n") {
		t.Errorf("multipass .env:\n%s", e)
	}
	// cloud-init writes the endpoints (world-readable) and the .env (root
	// only, then moved); the key never appears in the endpoints.
	ud, err := makeUserData(userDataSpec{Hostname: "vm1", User: "u", Env: env, Endpoints: proxy.endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"path: /etc/clawimg/endpoints", "permissions: \"0644\"", "path: " + secretPath, "permissions: \"0600\"", "80clawimg-proxy"} {
		if !strings.Contains(string(ud), want) {
			t.Errorf("user-data lacks %q", want)
		}
	}
}

func TestPrepareNet(t *testing.T) {
	home := t.TempDir()
	st, err := images.Open(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Config{Home: home, Helper: []string{"/bin/clawimg", "guestfwd"}}, st, nil, statedDrivers())
	qd, _ := m.driver("qemu")
	mp, _ := m.driver("multipass")
	for _, tc := range []struct {
		name string
		d    Driver
		o    LaunchOptions
		err  string
	}{
		{"defaults", qd, LaunchOptions{APIKey: "sk-ant-1"}, ""},
		{"allow", qd, LaunchOptions{Allow: []string{"github.com", "pypi.org:443"}}, ""},
		{"allow a URL", qd, LaunchOptions{Allow: []string{"https://github.com"}}, "want HOST or HOST:PORT"},
		{"allow a wildcard", qd, LaunchOptions{Allow: []string{"*.github.com"}}, "want HOST or HOST:PORT"},
		{"allow with none", qd, LaunchOptions{Egress: "none", Allow: []string{"github.com"}}, "needs egress proxy"},
		{"bad egress", qd, LaunchOptions{Egress: "some"}, `egress "some"`},
		{"bad provider", qd, LaunchOptions{ProviderURL: "http://api.anthropic.com"}, "want https://"},
		{"a key on two lines", qd, LaunchOptions{APIKey: "a\nb"}, "one word on one line"},
		{"multipass", mp, LaunchOptions{APIKey: "sk-ant-1"}, ""},
		{"multipass proxy", mp, LaunchOptions{Egress: "proxy"}, "needs the qemu driver"},
		{"multipass allow", mp, LaunchOptions{Allow: []string{"x.org"}}, "needs the qemu driver"},
		{"multipass CA", mp, LaunchOptions{CACert: []byte("pem")}, "needs the qemu driver"},
	} {
		dir := filepath.Join(home, tc.name)
		os.MkdirAll(dir, 0o700)
		rec := &Record{Name: "vm1", Dir: dir}
		gn, vmKey, err := m.prepareNet(tc.d, rec, tc.o)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
			}
			if _, serr := os.Stat(filepath.Join(dir, hostnet.KeyFile)); serr == nil {
				t.Errorf("%s: refused, yet the key was written", tc.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		switch tc.d {
		case qd:
			c, err := hostnet.ReadConfig(dir)
			if err != nil || vmKey != "" || gn.BaseURL != hostnet.BrokerURL || rec.Egress != hostnet.EgressProxy {
				t.Errorf("%s: %+v %q %+v %v", tc.name, gn, vmKey, c, err)
			}
			if !strings.Contains(strings.Join(c.Allow, " "), "deb.debian.org:80") || !strings.Contains(strings.Join(c.Allow, " "), "registry.npmjs.org:443") {
				t.Errorf("%s: allowlist %v", tc.name, c.Allow)
			}
			if tc.o.APIKey != "" {
				if b, _ := os.ReadFile(filepath.Join(dir, hostnet.KeyFile)); string(b) != tc.o.APIKey+"\n" {
					t.Errorf("%s: key file %q", tc.name, b)
				}
			}
		case mp:
			if vmKey != tc.o.APIKey || rec.Egress != "" || gn.BaseURL != hostnet.DefaultUpstream {
				t.Errorf("%s: %+v %q", tc.name, gn, vmKey)
			}
		}
	}
	// The multipass driver has no broker: secret set says so.
	os.MkdirAll(filepath.Join(home, "instances", "mp1"), 0o700)
	m.save(&Record{Name: "mp1", Driver: "multipass", Dir: filepath.Join(home, "instances", "mp1")})
	if err := m.SecretSet("mp1", "sk-ant-2"); !errors.Is(err, ErrKeyInVM) {
		t.Errorf("secret set on multipass: %v", err)
	}
}

func TestHostnetProbes(t *testing.T) {
	q := &Record{Driver: "qemu", Egress: hostnet.EgressProxy, SSHPort: 2222}
	ok, d := apiKeyOutsideVM(q, "files=\nenviron=\nbase=http://10.0.2.100\nenvkey=placeholder\nconf=${ANTHROPIC_BASE_URL}\n", true)
	if !ok || !strings.Contains(d, "on the host only") {
		t.Errorf("clean guest: %v %s", ok, d)
	}
	for out, want := range map[string]string{
		"files=/home/openclaw/.openclaw/.env \nbase=http://10.0.2.100\n": "the key is in /home/openclaw",
		"environ=/proc/77 \nbase=http://10.0.2.100\n":                    "environment of /proc/77",
		"base=http://10.0.2.100\nenvkey=other\n":                         "not the broker's placeholder",
		"base=https://api.anthropic.com\n":                               "not the broker",
		"base=http://10.0.2.100\nconf=https://api.anthropic.com\n":       "rebuild the image",
	} {
		if ok, d := apiKeyOutsideVM(q, out, true); ok || !strings.Contains(d, want) {
			t.Errorf("%q: %v %s, want %q", out, ok, d, want)
		}
	}
	if ok, d := apiKeyOutsideVM(&Record{Driver: "multipass"}, "", true); ok || !strings.Contains(d, "inside the VM") {
		t.Errorf("multipass: %v %s", ok, d)
	}
	deny, dns, proxy := egressChecks(q, "host=blocked\noutside=blocked\ndns=failed\nproxy=http://10.0.2.100:3128\nconnect=HTTP/1.1 403 Forbidden\n")
	if !deny.OK || !dns.OK || !proxy.OK {
		t.Errorf("restricted: %+v %+v %+v", deny, dns, proxy)
	}
	deny, dns, proxy = egressChecks(&Record{Driver: "qemu", Egress: hostnet.EgressOpen, SSHPort: 2222}, "host=connected\nproxy=\n")
	if deny.OK || dns.OK || proxy.OK || !strings.Contains(deny.Detail, "10.0.2.2:2222") || !strings.Contains(dns.Detail, "not queried") || !strings.Contains(proxy.Detail, "no proxy") {
		t.Errorf("open: %+v %+v %+v", deny, dns, proxy)
	}
	_, _, proxy = egressChecks(q, "host=blocked\noutside=blocked\ndns=failed\nproxy=http://10.0.2.100:3128\nconnect=HTTP/1.1 200 Connection established\n")
	if proxy.OK {
		t.Errorf("a proxy that let an unlisted host through: %+v", proxy)
	}
}
