package hcl

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// corpus is what clawimg and Debian's packer 1.6.6 (make deps) answer for
// each Packer-style recipe in testdata/packer, and, where they differ, why.
// ok-* recipes are valid for both; bad-* invalid for clawimg; newer-* use
// fields newer than packer 1.6.6.
var corpus = map[string]struct {
	clawimg, packer bool
	why             string
}{
	"ok-basic":               {true, true, ""},
	"ok-multi-file":          {true, true, ""},
	"ok-cloud-image":         {true, true, ""},
	"ok-iso-preseed":         {true, true, ""},
	"ok-iso-autoinstall":     {true, true, ""},
	"ok-other-builders":      {true, true, ""},
	"ok-varfiles":            {true, true, ""},
	"ok-dynamic":             {true, true, ""},
	"ok-post-processors":     {true, true, ""},
	"ok-floppy-kickstart":    {true, true, ""},
	"ok-bastion-agent":       {true, true, ""},
	"bad-missing-script":     {false, false, ""},
	"bad-syntax":             {false, false, ""},
	"bad-typo":               {false, false, ""},
	"bad-undeclared-var":     {false, false, ""},
	"bad-unknown-source":     {false, false, ""},
	"bad-iso-no-http-server": {false, true, "packer 1.6.6 lets a boot command name {{ .HTTPIP }} with nothing served (the install then fails to fetch); clawimg says so at validate"},
	"newer-http-content":     {true, false, "http_content is newer than packer 1.6.6 (the qemu plugin's)"},
	"newer-efi":              {true, false, "efi_boot is newer than packer 1.6.6 (the qemu plugin's); clawimg boots it through the host's OVMF"},
	"newer-windows-tpm":      {true, false, "efi_boot, vtpm, tpm_device_type and boot_steps are newer than packer 1.6.6 (the qemu plugin's); clawimg gives the VM swtpm's TPM"},
}

// TestPackerAgreesOnValidity runs clawimg and the real `packer validate` on
// the corpus, and logs the table of their answers.
func TestPackerAgreesOnValidity(t *testing.T) {
	dirs, err := filepath.Glob("testdata/packer/*")
	if err != nil || len(dirs) < 15 {
		t.Fatalf("need at least 15 Packer recipes in testdata/packer, found %d", len(dirs))
	}
	packer, perr := exec.LookPath("packer")
	answer := map[bool]string{true: "valid", false: "invalid"}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			want, ok := corpus[name]
			if !ok {
				t.Fatalf("%s is not in the corpus table", name)
			}
			_, err := Load(context.Background(), Options{Path: dir})
			if gotOK := err == nil; gotOK != want.clawimg {
				t.Fatalf("clawimg accepts=%v, want %v: %v", gotOK, want.clawimg, err)
			}
			if perr != nil {
				t.Skip("packer is not installed (make deps installs it): compared with the expectation only")
			}
			cmd := exec.Command(packer, "validate", ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "PACKER_CACHE_DIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if packerOK := err == nil; packerOK != want.packer {
				t.Fatalf("packer validate accepts=%v, want %v:\n%s", packerOK, want.packer, out)
			}
			t.Logf("| %s | clawimg %s | packer 1.6.6 %s | %s |", name, answer[want.clawimg], answer[want.packer], want.why)
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
