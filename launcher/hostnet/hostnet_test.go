package hostnet

import (
	"bufio"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseAllow(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"example.com", "example.com:443"},
		{"Example.COM:8443", "example.com:8443"},
		{"deb.debian.org:80", "deb.debian.org:80"},
		{"10.1.2.3", "10.1.2.3:443"},
		{"[::1]:80", "[::1]:80"},
		{"::1", "[::1]:443"},
		{"https://example.com", ""},
		{"example.com/path", ""},
		{"*.example.com", ""},
		{"", ""},
		{":443", ""},
		{"example.com:", ""},
		{"example.com:0", ""},
		{"example.com:70000", ""},
		{"example.com:http", ""},
		{"exa mple.com", ""},
		{"-bad.example.com", ""},
		{"user@example.com", ""},
		{"a,b", ""},
	} {
		got, err := ParseAllow(tc.in)
		if tc.want == "" {
			if err == nil || !errors.Is(err, ErrBadAllow) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
				t.Errorf("ParseAllow(%q) = %q, %v; want an error naming it", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAllow(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckProviderURL(t *testing.T) {
	for in, ok := range map[string]bool{
		"https://api.anthropic.com":       true,
		"https://llm.corp.example:8443/a": true,
		"http://127.0.0.1:8080":           true,
		"http://api.anthropic.com":        false,
		"https://":                        false,
		"https://u:p@api.anthropic.com":   false,
		"https://api.anthropic.com/?x=1":  false,
		"ftp://x":                         false,
	} {
		if err := CheckProviderURL(in); (err == nil) != ok {
			t.Errorf("CheckProviderURL(%q) = %v", in, err)
		}
	}
}

// served starts ServeConn for h on a loopback connection and returns a
// client whose requests all go over that one connection.
func served(t testing.TB, h http.Handler) (*http.Client, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go ServeConn(context.Background(), c, h)
		}
	}()
	return &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", l.Addr().String())
	}}}, l.Addr().String()
}

// upstream is a fake model provider over TLS that records what it got.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
	// status, when set, is what it answers.
	status int
}

func newUpstream(t testing.TB) (*upstream, string) {
	u := &upstream{}
	u.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Header.Clone())
		status := u.status
		u.mu.Unlock()
		io.Copy(io.Discard, r.Body)
		if status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, `{"error":"overloaded"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"content":[{"type":"text","text":"pong"}]}`)
	}))
	t.Cleanup(u.Close)
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: u.Certificate().Raw})
	if err := WriteConfig(dir, Config{Instance: "vm1", Egress: EgressProxy, Upstream: u.URL}, ca); err != nil {
		t.Fatal(err)
	}
	return u, dir
}

func (u *upstream) last() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		return nil
	}
	return u.seen[len(u.seen)-1]
}

func post(t *testing.T, c *http.Client, addr, path, guestKey string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+path, body)
	req.Header.Set("X-Api-Key", guestKey)
	req.Header.Set("Authorization", "Bearer "+guestKey)
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func TestBrokerAddsTheHostsKeyAndNeverForwardsTheGuests(t *testing.T) {
	up, dir := newUpstream(t)
	if err := SetKey(dir, "sk-ant-api03-first"); err != nil {
		t.Fatal(err)
	}
	h, err := Handler(KindBroker, dir)
	if err != nil {
		t.Fatal(err)
	}
	c, addr := served(t, h)
	res, body := post(t, c, addr, "/v1/messages", PlaceholderKey, strings.NewReader(`{}`))
	if res.StatusCode != 200 || !strings.Contains(body, "pong") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	got := up.last()
	if got.Get("X-Api-Key") != "sk-ant-api03-first" || got.Get("Authorization") != "" {
		t.Errorf("upstream got x-api-key %q, authorization %q", got.Get("X-Api-Key"), got.Get("Authorization"))
	}
	// Rotated on the host: the next request on the same connection has it.
	if err := SetKey(dir, "sk-ant-oat01-second"); err != nil {
		t.Fatal(err)
	}
	post(t, c, addr, "/v1/messages", "a-key-the-guest-found", strings.NewReader(`{}`))
	got = up.last()
	if got.Get("Authorization") != "Bearer sk-ant-oat01-second" || got.Get("X-Api-Key") != "" {
		t.Errorf("after rotation (an OAuth token): authorization %q, x-api-key %q", got.Get("Authorization"), got.Get("X-Api-Key"))
	}
	for _, hd := range up.seen {
		for _, v := range []string{PlaceholderKey, "a-key-the-guest-found"} {
			if strings.Contains(fmt.Sprint(hd), v) {
				t.Errorf("the guest's %q reached the upstream", v)
			}
		}
	}
	st, _ := os.Stat(filepath.Join(dir, KeyFile))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode())
	}
	log, _ := os.ReadFile(filepath.Join(dir, BrokerLog))
	if !strings.Contains(string(log), "POST /v1/messages 200") || strings.Contains(string(log), "sk-ant") {
		t.Errorf("broker.log:\n%s", log)
	}
}

func TestBrokerErrors(t *testing.T) {
	up, dir := newUpstream(t)
	h, _ := Handler(KindBroker, dir)
	c, addr := served(t, h)

	res, body := post(t, c, addr, "/v1/messages", PlaceholderKey, strings.NewReader(`{}`))
	if res.StatusCode != 401 || !strings.Contains(body, "clawimg secret set vm1") {
		t.Errorf("no key: %d %s", res.StatusCode, body)
	}
	if len(up.seen) != 0 {
		t.Error("a request without a key reached the upstream")
	}
	SetKey(dir, "sk-ant-api03-k")
	res, body = post(t, c, addr, "/admin", PlaceholderKey, nil)
	if res.StatusCode != 404 {
		t.Errorf("/admin: %d %s", res.StatusCode, body)
	}
	up.status = 529
	res, body = post(t, c, addr, "/v1/messages", PlaceholderKey, strings.NewReader(`{}`))
	if res.StatusCode != 502 || res.Header.Get("X-Clawimg-Upstream-Status") != "529" || !strings.Contains(body, "answered 529") {
		t.Errorf("upstream 529: %d %v %s", res.StatusCode, res.Header, body)
	}
	up.status = 400
	if res, _ = post(t, c, addr, "/v1/messages", PlaceholderKey, strings.NewReader(`{}`)); res.StatusCode != 400 {
		t.Errorf("upstream 400 became %d", res.StatusCode)
	}
	up.status = 0
	// Too big, declared and streamed.
	big := strings.Repeat("x", MaxBody+1)
	if res, _ = post(t, c, addr, "/v1/messages", PlaceholderKey, strings.NewReader(big)); res.StatusCode != 413 {
		t.Errorf("declared %d bytes: %d", len(big), res.StatusCode)
	}
	c2, addr2 := served(t, h)
	if res, _ = post(t, c2, addr2, "/v1/messages", PlaceholderKey, io.MultiReader(strings.NewReader(big))); res.StatusCode != 413 {
		t.Errorf("streamed %d bytes: %d", len(big), res.StatusCode)
	}
	// Huge headers: 431.
	req, _ := http.NewRequest("GET", "http://"+addr2+"/v1/models", nil)
	req.Header.Set("X-Big", strings.Repeat("y", 2*MaxHeaderBytes))
	if res, err := c2.Do(req); err != nil || res.StatusCode != 431 {
		t.Errorf("huge headers: %v %v", res, err)
	}
	// The upstream down: a clear 502.
	up.Close()
	res, body = post(t, c, addr, "/v1/messages", PlaceholderKey, strings.NewReader(`{}`))
	if res.StatusCode != 502 || !strings.Contains(body, "did not answer") || strings.Contains(body, "sk-ant-api03-k") {
		t.Errorf("upstream down: %d %s", res.StatusCode, body)
	}
}

func TestSlowRequestHeadsAreCutOff(t *testing.T) {
	_, dir := newUpstream(t)
	h, _ := Handler(KindBroker, dir)
	a, b := net.Pipe()
	done := make(chan struct{})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 200 * time.Millisecond}
	go func() { srv.Serve(&oneConn{conn: b, done: make(chan struct{})}); close(done) }()
	io.WriteString(a, "POST /v1/messages HTTP/1.1\r\nHost: x\r\n") // and never the end of the head
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.Read(make([]byte, 1)); err == nil {
		// A 408 may come first; then the connection closes.
		_, err = io.ReadAll(a)
		if err != nil {
			t.Errorf("connection not closed: %v", err)
		}
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Error("a request head that never ends kept the connection open")
	}
	if HeaderTimeout > time.Minute || RequestTimeout > 10*time.Minute {
		t.Errorf("limits too lax: %s %s", HeaderTimeout, RequestTimeout)
	}
}

func TestProxyAllowsOnlyTheList(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "origin says hi "+r.URL.Path)
	}))
	t.Cleanup(origin.Close)
	originHP := strings.TrimPrefix(origin.URL, "http://")
	_, port, _ := net.SplitHostPort(originHP)
	dir := t.TempDir()
	p := &Proxy{Allow: []string{originHP, "metadata.test:" + port, "api.test:" + port}, Instance: "vm1",
		Log: OpenLog(filepath.Join(dir, EgressLog)),
		Resolve: func(_ context.Context, h string) ([]net.IP, error) {
			switch h {
			case "metadata.test":
				return []net.IP{net.ParseIP("169.254.169.254")}, nil
			case "api.test":
				return []net.IP{net.ParseIP("127.0.0.2")}, nil
			}
			return nil, errors.New("no such host")
		}}
	_, paddr := served(t, p)
	via := func(target string) (int, string) {
		pu, _ := http.NewRequest("GET", "http://"+paddr, nil)
		c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu.URL)}}
		res, err := c.Get(target)
		if err != nil {
			return 0, err.Error()
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	if code, body := via(origin.URL + "/x"); code != 200 || body != "origin says hi /x" {
		t.Errorf("allowed plain HTTP: %d %q", code, body)
	}
	code, body := via("http://example.org/")
	if code != 403 || !strings.Contains(body, "--allow example.org:80") {
		t.Errorf("not listed: %d %q", code, body)
	}
	if code, body := via("http://metadata.test:" + port + "/latest/meta-data/"); code != 403 || !strings.Contains(body, "169.254.169.254") {
		t.Errorf("a listed name resolving to the metadata address: %d %q", code, body)
	}
	if code, _ := via("http://api.test:" + port + "/"); code != 403 {
		t.Errorf("a listed name resolving to loopback: %d", code)
	}
	// CONNECT: through to a listed address, refused elsewhere.
	connect := func(target string) string {
		c, err := net.Dial("tcp", paddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
		br := bufio.NewReader(c)
		line, _ := br.ReadString('\n')
		if !strings.Contains(line, " 200 ") {
			return strings.TrimSpace(line)
		}
		for l, _ := br.ReadString('\n'); strings.TrimSpace(l) != ""; l, _ = br.ReadString('\n') {
		}
		fmt.Fprintf(c, "GET /tunnel HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target)
		rest, _ := io.ReadAll(br)
		return line + string(rest)
	}
	if got := connect(originHP); !strings.Contains(got, "origin says hi /tunnel") {
		t.Errorf("CONNECT to a listed address: %q", got)
	}
	if got := connect("clawimg-probe.invalid:443"); !strings.Contains(got, "403") {
		t.Errorf("CONNECT to an unlisted host: %q", got)
	}
	log, _ := os.ReadFile(filepath.Join(dir, EgressLog))
	for _, want := range []string{"GET " + originHP + " allowed", "GET example.org:80 refused", "CONNECT clawimg-probe.invalid:443 refused", "CONNECT " + originHP + " allowed"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("egress.log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(string(log), "origin says") || strings.Contains(string(log), "/tunnel") {
		t.Errorf("egress.log holds a payload:\n%s", log)
	}
}

func TestEgressNoneAllowsNothing(t *testing.T) {
	p := NewProxy(t.TempDir(), Config{Egress: EgressNone, Allow: []string{"example.com:443"}})
	if _, why := p.check(context.Background(), "example.com:443"); why == "" {
		t.Error("--egress none let a listed host through")
	}
}
