package layout

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/clawimg/clawimg"

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Deps       []string
}

func packages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Dir,GoFiles,Deps", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestImports: the libraries stay in their rooms. The launcher does not
// parse recipes, the store knows nothing of builds or instances, and no
// library depends on the CLI.
func TestImports(t *testing.T) {
	forbidden := map[string][]string{
		"launcher": {"hcl", "builder", "cmd/clawimg"},
		"images":   {"builder", "launcher", "hcl", "cmd/clawimg"},
		"hcl":      {"builder", "launcher", "images", "cmd/clawimg"},
		"builder":  {"launcher", "cmd/clawimg"},
	}
	seen := 0
	for _, p := range packages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		root, _, _ := strings.Cut(rel, "/")
		for _, bad := range forbidden[root] {
			seen++
			for _, d := range p.Deps {
				if d == module+"/"+bad || strings.HasPrefix(d, module+"/"+bad+"/") {
					t.Errorf("%s imports %s", rel, strings.TrimPrefix(d, module+"/"))
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("go list found none of the packages")
	}
}

// TestDriverRooms: each launcher driver is in its own package, which the
// launcher's core does not import (the driver table, launcher/drivers, is
// what does), and no driver imports another.
func TestDriverRooms(t *testing.T) {
	drivers := []string{"launcher/qemu", "launcher/multipass"}
	forbidden := map[string][]string{
		"launcher":           drivers,
		"launcher/qemu":      {"launcher/multipass", "launcher/drivers"},
		"launcher/multipass": {"launcher/qemu", "launcher/drivers"},
	}
	found := map[string]bool{}
	for _, p := range packages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		found[rel] = true
		for _, bad := range forbidden[rel] {
			for _, d := range p.Deps {
				if d == module+"/"+bad {
					t.Errorf("%s imports %s", rel, bad)
				}
			}
		}
	}
	for _, want := range append(drivers, "launcher", "launcher/drivers") {
		if !found[want] {
			t.Errorf("no package %s", want)
		}
	}
}

// flag is a CLI flag spelled in a message: "--memory", "use --insecure".
var flag = regexp.MustCompile(`(^|[\s"'(\x60])--[a-z][a-z0-9-]*`)

// TestOnlyCmdSpeaksFlags: no error or message made outside cmd/ names a
// flag; the CLI attaches hints. (Arguments of the commands clawimg runs,
// such as multipass's --cpus, are not messages.)
func TestOnlyCmdSpeaksFlags(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, p := range packages(t) {
		if strings.HasPrefix(p.ImportPath, module+"/cmd/") {
			continue
		}
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !isMessage(call.Fun) {
					return true
				}
				for _, a := range call.Args {
					lit, ok := a.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					s, _ := strconv.Unquote(lit.Value)
					if m := flag.FindString(s); m != "" {
						t.Errorf("%s: a message names the flag %q: %s", fset.Position(lit.Pos()), strings.TrimSpace(m), s)
					}
				}
				return true
			})
		}
	}
	if checked == 0 {
		t.Fatal("no file checked")
	}
}

// isMessage reports whether fun makes an error, the messages libraries
// give people (the scripts they build with Sprintf are not).
func isMessage(fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return false
	}
	switch id.Name + "." + sel.Sel.Name {
	case "fmt.Errorf", "errors.New":
		return true
	}
	return false
}

// TestNamedFilesExist: a comment or message that names a project
// document (an upper-case name ending in .md, or a path to such a file) names one the
// repository holds, in its root or beside the file.
func TestNamedFilesExist(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "*.go", "*.txtar", "*.sh", "Makefile").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	doc := regexp.MustCompile(`(?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_-]+\.md\b|\b[A-Z][A-Z0-9_-]+\.md\b`)
	for _, f := range strings.Fields(string(out)) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // listed but not in this working tree
		}
		for _, name := range doc.FindAllString(string(b), -1) {
			inRoot := filepath.Join(root, filepath.Base(name))
			beside := filepath.Join(root, filepath.Dir(f), name)
			if !inside(root, inRoot) && !inside(root, beside) && !inside(root, filepath.Join(root, name)) {
				t.Errorf("%s names %s, which the repository does not hold", f, name)
			}
		}
	}
}

// inside reports whether p exists within the repository at root.
func inside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}
