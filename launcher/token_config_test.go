package launcher

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// runTokenIntoConfig runs the renewal's token step on this host, as the
// guest would, on a configuration file with the given text.
func runTokenIntoConfig(t *testing.T, config, token string) (string, string, error) {
	t.Helper()
	for _, tool := range []string{"perl", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on this host", tool)
		}
	}
	conf := filepath.Join(t.TempDir(), "openclaw.json")
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "set -eu; read -r token; conf=$1\n"+tokenIntoConfig, "sh", conf)
	cmd.Stdin = strings.NewReader(token + "\n")
	out, err := cmd.CombinedOutput()
	got, rerr := os.ReadFile(conf)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return string(got), string(out), err
}

// OpenClaw's own layout (JSON.stringify, two spaces), as in the image.
const openclawConfig = `{
  "agents": {
    "defaults": {
      "model": {
        "primary": "anthropic/claude-opus-5"
      }
    }
  },
  "auth": {
    "profiles": {
      "anthropic:default": {
        "provider": "anthropic",
        "mode": "api_key"
      }
    }
  },
  "gateway": {
    "mode": "local",
    "auth": {
      "mode": "token",
      "token": "warm-0123456789abcdef"
    },
    "port": 18789
  }
}
`

func TestTokenIntoConfig(t *testing.T) {
	for _, tc := range []struct {
		name, config, token string
		want                string // the file afterwards, "" to check by parsing only
	}{
		{"OpenClaw's layout: only the token's literal changes", openclawConfig, "new-fedcba",
			strings.Replace(openclawConfig, "warm-0123456789abcdef", "new-fedcba", 1)},
		{"other tokens and auth objects stay, nested members and tricky strings before it",
			`{"auth":{"token":"top"},"channels":{"x":{"auth":{"token":"chan"}}},"list":[{"gateway":{"auth":{"token":"in-array"}}}],` +
				`"note":"a \"}{[ b \\","gateway":{"remote":{"token":"remote"},"auth":{"rateLimit":{"max":3,"token":"rl"},"mode":"token","token":"old"}}}`,
			"n1",
			`{"auth":{"token":"top"},"channels":{"x":{"auth":{"token":"chan"}}},"list":[{"gateway":{"auth":{"token":"in-array"}}}],` +
				`"note":"a \"}{[ b \\","gateway":{"remote":{"token":"remote"},"auth":{"rateLimit":{"max":3,"token":"rl"},"mode":"token","token":"n1"}}}`},
		{"a token that needs escaping in JSON", openclawConfig, `a"b\c`, ""},
		{"no token yet: set in the parsed configuration", `{"gateway":{"auth":{"mode":"token"}},"n":[1,2]}`, "n2", ""},
		{"a secret reference: replaced by the token", `{"gateway":{"auth":{"token":{"source":"env","id":"T"}}}}`, "n3", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out, err := runTokenIntoConfig(t, tc.config, tc.token)
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			var cfg struct {
				Gateway struct {
					Auth struct{ Token string }
				}
			}
			if err := json.Unmarshal([]byte(got), &cfg); err != nil || cfg.Gateway.Auth.Token != tc.token {
				t.Errorf("gateway.auth.token = %q (%v), want %q in\n%s", cfg.Gateway.Auth.Token, err, tc.token, got)
			}
		})
	}
}

func TestTokenIntoConfigRefusesBadInput(t *testing.T) {
	for _, bad := range []string{`{"gateway":{"auth":{"token":"old"}}` + "\x00", `{"gateway":{"auth":{"token":"old`, `{"gateway":{"auth":{"token":"old"}},x}`} {
		got, out, err := runTokenIntoConfig(t, bad, "n")
		if err == nil || got != bad {
			t.Errorf("%q: err %v, file now %q (%s)", bad, err, got, out)
		}
	}
}

// A link left where the temporary file goes is replaced, not written
// through: the openclaw user owns the directory.
func TestTokenIntoConfigDoesNotFollowLinks(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("no perl on this host")
	}
	dir := t.TempDir()
	conf, victim := filepath.Join(dir, "openclaw.json"), filepath.Join(dir, "victim")
	os.WriteFile(conf, []byte(openclawConfig), 0o644)
	os.WriteFile(victim, []byte("untouched"), 0o644)
	if err := os.Symlink(victim, conf+".clawimg"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "set -eu; read -r token; conf=$1\n"+tokenIntoConfig, "sh", conf)
	cmd.Stdin = strings.NewReader("n4\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if b, _ := os.ReadFile(victim); string(b) != "untouched" {
		t.Errorf("victim now %q", b)
	}
	fi, err := os.Lstat(conf)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("configuration: %v, %v (want a regular file, 0600)", fi.Mode(), err)
	}
}

// TestReseedRNG runs the renewal's reseed on this host: as root the
// kernel takes the entropy and reseeds (a wrong request number would fail
// with ENOTTY); otherwise it must refuse, and say which request.
func TestReseedRNG(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("no perl on this host")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the guest's kernel interface: Linux only")
	}
	b := make([]byte, 64)
	rand.Read(b)
	cmd := exec.Command("sh", "-c", "set -eu; read -r entropy\n"+reseedRNG)
	cmd.Stdin = strings.NewReader(hex.EncodeToString(b) + "\n")
	out, err := cmd.CombinedOutput()
	if os.Geteuid() == 0 {
		if err != nil {
			t.Errorf("as root: %v: %s", err, out)
		}
	} else if err == nil || !strings.Contains(string(out), "RNDADDENTROPY") {
		t.Errorf("not root: %v: %s, want RNDADDENTROPY refused", err, out)
	}
}
