package hcl

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// jsModule is a Node module a built-in script writes with a here-document
// whose variables the shell expands.
var jsModule = regexp.MustCompile(`(?s)cat >"\$(\w+)" <<JS\n(.*?)\nJS\n`)

// TestBuiltinScriptsParse: the built-in recipe's scripts are valid sh, and
// the Node modules they write into the image (the gateway's worker
// preloads) are valid JavaScript as the shell writes them. What they do is
// checked where they run: the build itself fails when its caches are not
// used, and the e2e starts the gateway with them.
func TestBuiltinScriptsParse(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to check the recipe's JavaScript (make deps installs it)")
	}
	modules := 0
	err = fs.WalkDir(builtinFiles, "builtin/scripts", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(builtinFiles, path)
		if err != nil {
			return err
		}
		if out, err := exec.Command("sh", "-n", "-c", string(b)).CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s", path, err, out)
		}
		for _, m := range jsModule.FindAllStringSubmatch(string(b), -1) {
			modules++
			vars := "preload=/x/worker.mjs resolve=/x/resolve.mjs cache=/x/cache pkg=/x/package.json\n"
			js, err := exec.Command("sh", "-c", vars+"cat <<JS\n"+m[2]+"\nJS\n").Output()
			if err != nil {
				t.Fatalf("%s: write $%s: %v", path, m[1], err)
			}
			if strings.Contains(string(js), "$") {
				t.Errorf("%s: $%s keeps an unexpanded $:\n%s", path, m[1], js)
			}
			file := filepath.Join(t.TempDir(), m[1]+".mjs")
			if err := os.WriteFile(file, js, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(node, "--check", file).CombinedOutput(); err != nil {
				t.Errorf("%s: $%s is not valid JavaScript: %v\n%s", path, m[1], err, out)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if modules != 2 {
		t.Errorf("found %d Node modules in the scripts, want 2 (the worker preload and the resolution cache)", modules)
	}
}

// TestBuiltinPluginsVariable: openclaw_plugins reaches the scripts as
// OPENCLAW_PLUGINS, and only plugin ids (or all) pass its validation: the
// value is expanded unquoted by the script.
func TestBuiltinPluginsVariable(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"", true}, // the default
		{"all", true},
		{"anthropic memory-core", true},
		{"anthropic  memory-core", false},
		{"anthropic;reboot", false},
		{"$(reboot)", false},
		{"Anthropic", false},
		{"anthropic ", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			var opts Options
			if tt.value != "" {
				opts.Vars = []VarArg{{Value: "openclaw_plugins=" + tt.value}}
			}
			p, err := Load(context.Background(), opts)
			if !tt.ok {
				if err == nil {
					t.Fatalf("openclaw_plugins=%q loads", tt.value)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.value
			if want == "" {
				want = "anthropic browser canvas cua-computer device-pair file-transfer geolocation github linux-node memory-core ollama openai talk-voice xai"
			}
			env := p.Builds[0].Provisioners[0].Shell.EnvironmentVars
			if !slices.Contains(env, "OPENCLAW_PLUGINS="+want) {
				t.Errorf("provisioner environment %q, want OPENCLAW_PLUGINS=%s", env, want)
			}
		})
	}
}

// TestBuiltinPluginsScript runs 45-plugins.sh on a made-up extensions
// directory: plugins not kept are removed, shared code (no manifest)
// stays, an unknown id fails before anything is removed.
func TestBuiltinPluginsScript(t *testing.T) {
	script, err := fs.ReadFile(builtinFiles, "builtin/scripts/45-plugins.sh")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		keep string
		ok   bool
		left []string
	}{
		{"all", true, []string{"anthropic", "shared-core", "telegram", "xai"}},
		{"anthropic xai", true, []string{"anthropic", "shared-core", "xai"}},
		{"anthropic", true, []string{"anthropic", "shared-core"}},
		{"anthropic no-such-plugin", false, []string{"anthropic", "shared-core", "telegram", "xai"}},
		{"shared-core", false, []string{"anthropic", "shared-core", "telegram", "xai"}},
	}
	for _, tt := range tests {
		t.Run(tt.keep, func(t *testing.T) {
			ext := t.TempDir()
			for _, d := range []string{"anthropic", "telegram", "xai", "shared-core"} {
				if err := os.MkdirAll(filepath.Join(ext, d), 0o755); err != nil {
					t.Fatal(err)
				}
				if d != "shared-core" {
					os.WriteFile(filepath.Join(ext, d, "openclaw.plugin.json"), []byte(`{"id":"`+d+`"}`), 0o644)
				}
			}
			cmd := exec.Command("sh", "-c", string(script), "45-plugins.sh", ext)
			cmd.Env = append(os.Environ(), "OPENCLAW_PLUGINS="+tt.keep)
			out, err := cmd.CombinedOutput()
			if (err == nil) != tt.ok {
				t.Fatalf("exit %v, want ok=%v\n%s", err, tt.ok, out)
			}
			entries, _ := os.ReadDir(ext)
			var left []string
			for _, e := range entries {
				left = append(left, e.Name())
			}
			if !slices.Equal(left, tt.left) {
				t.Errorf("left %q, want %q\n%s", left, tt.left, out)
			}
		})
	}
}
