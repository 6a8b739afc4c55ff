package builder

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseBootCommand(t *testing.T) {
	k := func(codes ...string) keyStroke { return keyStroke{Keys: codes} }
	w := func(d time.Duration) keyStroke { return keyStroke{Wait: d} }
	for _, tc := range []struct {
		in   string
		want []keyStroke
		err  string
	}{
		{"ab", []keyStroke{k("a"), k("b")}, ""},
		{"A:", []keyStroke{k("shift", "a"), k("shift", "semicolon")}, ""},
		{"<enter><Return><ESC><bs><spacebar>", []keyStroke{k("ret"), k("ret"), k("esc"), k("backspace"), k("spc")}, ""},
		{"<f10><pageUp><leftSuper>", []keyStroke{k("f10"), k("pgup"), k("meta_l")}, ""},
		{"<wait><wait5><wait10><wait1m30s><wait500ms>", []keyStroke{w(time.Second), w(5 * time.Second), w(10 * time.Second), w(90 * time.Second), w(500 * time.Millisecond)}, ""},
		{"<leftCtrlOn>x<leftCtrlOff>", []keyStroke{{Down: "ctrl"}, k("x"), {Up: "ctrl"}}, ""},
		{"<leftAltOn><f2><leftAltOff>", []keyStroke{{Down: "alt"}, k("f2"), {Up: "alt"}}, ""},
		// Not a key Packer knows: typed as it is, "<" and ">" included.
		{"<x>", []keyStroke{k("shift", "comma"), k("x"), k("shift", "dot")}, ""},
		{"a<b", []keyStroke{k("a"), k("shift", "comma"), k("b")}, ""},
		{"url=http://10.0.2.2:8080/p.cfg", nil, ""},
		{"<waitfor>", nil, `not a duration: "for"`},
		{"é", nil, "cannot be typed on a US keyboard"},
	} {
		got, err := parseBootCommand(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.want != nil && !reflect.DeepEqual(got, tc.want):
			t.Errorf("%q: %+v, want %+v", tc.in, got, tc.want)
		case tc.want == nil && len(got) != len(tc.in):
			t.Errorf("%q: %d keystrokes", tc.in, len(got))
		}
	}
}

func TestRenderBootCommand(t *testing.T) {
	vars := bootVars{HTTPIP: "10.0.2.2", HTTPPort: 8123, Name: "packer-x", SSHPublicKey: "ssh-ed25519 AAA k"}
	got, err := renderBootCommand("url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"+"{{ .Name }} {{ .SSHPublicKey | urlquery }}<enter>", vars)
	if err != nil {
		t.Fatal(err)
	}
	if typed := typedText(got); typed != "url=http://10.0.2.2:8123/packer-x ssh-ed25519+AAA+k\n" {
		t.Errorf("typed %q", typed)
	}
	for _, bad := range []string{"{{ .HTTPIp }}", "{{ .HTTPIP"} {
		if _, err := renderBootCommand(bad, vars); err == nil || !strings.Contains(err.Error(), "boot_command") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// typedText is what keystrokes of plain characters type.
func typedText(ks []keyStroke) string {
	var b strings.Builder
	for _, k := range ks {
		for r := rune(0x20); r < 0x7f; r++ {
			if c, err := charStroke(r); err == nil && reflect.DeepEqual(c, k) {
				b.WriteRune(r)
				break
			}
		}
		if reflect.DeepEqual(k, keyStroke{Keys: []string{"ret"}}) {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// recordedKeys is a keyboard that writes down what it is sent.
type recordedKeys []string

func (r *recordedKeys) Keys(_ context.Context, codes []string, down bool) error {
	dir := "up"
	if down {
		dir = "down"
	}
	*r = append(*r, dir+":"+strings.Join(codes, "+"))
	return nil
}

func TestTypeStrokes(t *testing.T) {
	strokes, err := parseBootCommand("A<leftCtrlOn>x<leftCtrlOff><wait0s>")
	if err != nil {
		t.Fatal(err)
	}
	var kb recordedKeys
	if err := typeStrokes(context.Background(), &kb, strokes, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want := recordedKeys{"down:shift+a", "up:a+shift", "down:ctrl", "down:x", "up:x", "up:ctrl"}
	if !reflect.DeepEqual(kb, want) {
		t.Errorf("sent %v, want %v", kb, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	long, _ := parseBootCommand("<wait1h>")
	if err := typeStrokes(ctx, &kb, long, time.Millisecond); err == nil {
		t.Error("a cancelled boot command went on")
	}
}

func TestHTTPHandler(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "preseed.cfg"), []byte("d-i from the directory\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "both.cfg"), []byte("from the directory\n"), 0o644)
	var seen []string
	srv := httptest.NewServer(httpHandler(dir, map[string]string{"both.cfg": "from content\n", "/ks/ks.cfg": "ks\n"},
		func(m, p string, code int) { seen = append(seen, m+" "+p+" "+http.StatusText(code)) }))
	defer srv.Close()
	for path, want := range map[string]string{
		"/preseed.cfg": "d-i from the directory\n", "/both.cfg": "from content\n", "/ks/ks.cfg": "ks\n", "/missing": "404",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := string(b); (want == "404" && resp.StatusCode != 404) || (want != "404" && got != want) {
			t.Errorf("%s: %d %q, want %q", path, resp.StatusCode, got, want)
		}
	}
	if len(seen) != 4 || !strings.Contains(strings.Join(seen, ","), "GET /missing Not Found") {
		t.Errorf("requests reported: %v", seen)
	}
}

func TestListenInRange(t *testing.T) {
	l, err := listenInRange(20000, 20100)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().String()
	if !strings.HasPrefix(port, "127.0.0.1:") {
		t.Errorf("listens on %s, want the loopback", port)
	}
	if _, err := listenInRange(1, 0); err == nil {
		t.Error("an empty range gave a port")
	}
}
