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
// guest would, on a configuration file with the given text; noPerl runs it
// as in an image without Perl.
func runTokenIntoConfig(t *testing.T, config, token string, noPerl bool) (string, string, error) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "openclaw.json")
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := guestShell(t, "set -eu; read -r token; conf=$1\n"+tokenIntoConfig, noPerl, conf)
	cmd.Stdin = strings.NewReader(token + "\n")
	out, err := cmd.CombinedOutput()
	got, rerr := os.ReadFile(conf)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return string(got), string(out), err
}

// guestShell is sh running script with perl and python3 from this host;
// noPerl leaves only python3 on its PATH.
func guestShell(t *testing.T, script string, noPerl bool, args ...string) *exec.Cmd {
	t.Helper()
	tools := map[string]string{}
	for _, tool := range []string{"perl", "python3"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s on this host", tool)
		}
		tools[tool] = p
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh"}, args...)...)
	if noPerl {
		// The interpreter itself: python3 on PATH may be a wrapper (pyenv).
		exe, err := exec.Command(tools["python3"], "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			t.Fatal(err)
		}
		bin := t.TempDir()
		if err := os.Symlink(strings.TrimSpace(string(exe)), filepath.Join(bin, "python3")); err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(os.Environ(), "PATH="+bin)
	}
	return cmd
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
		noPerl              bool
	}{
		{"OpenClaw's layout: only the token's literal changes", openclawConfig, "new-fedcba",
			strings.Replace(openclawConfig, "warm-0123456789abcdef", "new-fedcba", 1), false},
		{"other tokens and auth objects stay, nested members and tricky strings before it",
			`{"auth":{"token":"top"},"channels":{"x":{"auth":{"token":"chan"}}},"list":[{"gateway":{"auth":{"token":"in-array"}}}],` +
				`"note":"a \"}{[ b \\","gateway":{"remote":{"token":"remote"},"auth":{"rateLimit":{"max":3,"token":"rl"},"mode":"token","token":"old"}}}`,
			"n1",
			`{"auth":{"token":"top"},"channels":{"x":{"auth":{"token":"chan"}}},"list":[{"gateway":{"auth":{"token":"in-array"}}}],` +
				`"note":"a \"}{[ b \\","gateway":{"remote":{"token":"remote"},"auth":{"rateLimit":{"max":3,"token":"rl"},"mode":"token","token":"n1"}}}`, false},
		{"a token that needs escaping in JSON", openclawConfig, `a"b\c`, "", false},
		{"no token yet: set in the parsed configuration", `{"gateway":{"auth":{"mode":"token"}},"n":[1,2]}`, "n2", "", false},
		{"a secret reference: replaced by the token", `{"gateway":{"auth":{"token":{"source":"env","id":"T"}}}}`, "n3", "", false},
		{"an image without Perl: Python does it", openclawConfig, "n5", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out, err := runTokenIntoConfig(t, tc.config, tc.token, tc.noPerl)
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
		got, out, err := runTokenIntoConfig(t, bad, "n", false)
		if err == nil || got != bad {
			t.Errorf("%q: err %v, file now %q (%s)", bad, err, got, out)
		}
	}
}

// A link left where the temporary file goes is replaced, not written
// through: the openclaw user owns the directory.
func TestTokenIntoConfigDoesNotFollowLinks(t *testing.T) {
	for _, noPerl := range []bool{false, true} {
		dir := t.TempDir()
		conf, victim := filepath.Join(dir, "openclaw.json"), filepath.Join(dir, "victim")
		os.WriteFile(conf, []byte(openclawConfig), 0o644)
		os.WriteFile(victim, []byte("untouched"), 0o644)
		if err := os.Symlink(victim, conf+".clawimg"); err != nil {
			t.Fatal(err)
		}
		cmd := guestShell(t, "set -eu; read -r token; conf=$1\n"+tokenIntoConfig, noPerl, conf)
		cmd.Stdin = strings.NewReader("n4\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("no Perl %v: %v: %s", noPerl, err, out)
		}
		if b, _ := os.ReadFile(victim); string(b) != "untouched" {
			t.Errorf("no Perl %v: victim now %q", noPerl, b)
		}
		fi, err := os.Lstat(conf)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("no Perl %v: configuration %v, %v (want a regular file, 0600)", noPerl, fi.Mode(), err)
		}
	}
}

// TestReseedRNG runs the renewal's reseed on this host, with Perl and
// without: as root the kernel takes the entropy and reseeds (a wrong
// request number would fail with ENOTTY); otherwise it must refuse, and
// say which request.
func TestReseedRNG(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the guest's kernel interface: Linux only")
	}
	for _, noPerl := range []bool{false, true} {
		b := make([]byte, 64)
		rand.Read(b)
		cmd := guestShell(t, "set -eu; read -r entropy\n"+reseedRNG, noPerl)
		cmd.Stdin = strings.NewReader(hex.EncodeToString(b) + "\n")
		out, err := cmd.CombinedOutput()
		if os.Geteuid() == 0 {
			if err != nil {
				t.Errorf("as root (no Perl: %v): %v: %s", noPerl, err, out)
			}
		} else if err == nil || !strings.Contains(string(out), "RNDADDENTROPY") {
			t.Errorf("not root (no Perl: %v): %v: %s, want RNDADDENTROPY refused", noPerl, err, out)
		}
	}
}
