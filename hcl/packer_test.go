package hcl

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The recipes in testdata/packer are Packer-style recipes: ok-* must be
// accepted and bad-* rejected, by clawimg and by the real `packer validate`
// alike (Debian's packer 1.6.6, installed by make deps).
func TestPackerAgreesOnValidity(t *testing.T) {
	dirs, err := filepath.Glob("testdata/packer/*")
	if err != nil || len(dirs) < 3 {
		t.Fatalf("need at least three Packer recipes in testdata/packer, found %d", len(dirs))
	}
	packer, perr := exec.LookPath("packer")
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			wantOK := strings.HasPrefix(name, "ok-")
			_, err := Load(context.Background(), Options{Path: dir})
			if gotOK := err == nil; gotOK != wantOK {
				t.Fatalf("clawimg accepts=%v, want %v: %v", gotOK, wantOK, err)
			}
			if perr != nil {
				t.Skip("packer is not installed (make deps installs it): compared with the expectation only")
			}
			cmd := exec.Command(packer, "validate", ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "PACKER_CACHE_DIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if packerOK := err == nil; packerOK != wantOK {
				t.Fatalf("packer validate accepts=%v, clawimg accepts=%v:\n%s", packerOK, wantOK, out)
			}
		})
	}
}

// Packer's real precedence puts variable files above the environment; the
// issue text put the environment above -var-file. clawimg follows Packer, and
// this test holds both to the same answer.
func TestPackerAgreesOnPrecedence(t *testing.T) {
	packer, err := exec.LookPath("packer")
	if err != nil {
		t.Skip("packer is not installed (make deps installs it)")
	}
	dir := writeRecipe(t, map[string]string{
		"r.pkr.hcl": `variable "x" {
  type    = string
  default = "default"
}
variable "y" {
  type    = string
  default = "default"
}
` + minimal,
		"v.pkrvars.hcl": "x = \"file\"\ny = \"file\"\n",
	})
	cmd := exec.Command(packer, "inspect", "-var-file", "v.pkrvars.hcl", "-var", "y=cli", "r.pkr.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PKR_VAR_x=env", "PKR_VAR_y=env", "CHECKPOINT_DISABLE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("packer inspect: %v\n%s", err, out)
	}
	p, diags := load(t, filepath.Join(dir, "r.pkr.hcl"),
		[]VarArg{{File: true, Value: filepath.Join(dir, "v.pkrvars.hcl")}, {Value: "y=cli"}},
		"CLAWIMG_VAR_x=env", "CLAWIMG_VAR_y=env")
	if diags != nil {
		t.Fatal(diags)
	}
	for _, name := range []string{"x", "y"} {
		m := regexp.MustCompile(`var\.` + name + `: "([^"]*)"`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no var.%s in packer inspect output:\n%s", name, out)
		}
		if got, _ := varValue(t, p, name); got != string(m[1]) {
			t.Errorf("var.%s: clawimg %q, packer %q", name, got, m[1])
		}
	}
}
