package hcl

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
