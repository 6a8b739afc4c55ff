package builder

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawimg/clawimg/hcl"
)

// TestFloppyHoldsWhatTheRecipeNames: floppy_files (a directory's files
// too, at the root), floppy_dirs (under their names, trees kept) and
// floppy_content, read back from the image by mtools.
func TestFloppyHoldsWhatTheRecipeNames(t *testing.T) {
	if _, err := exec.LookPath("mcopy"); err != nil {
		t.Fatal("mtools is missing (make deps installs it)")
	}
	dir := t.TempDir()
	files := map[string]string{
		"Autounattend.xml":          "<unattend/>\n",
		"scripts/a.ps1":             "echo a\n",
		"scripts/deeper/b.ps1":      "echo b\n",
		"drivers/viostor/w10.inf":   "[Version]\n",
		"drivers/NetKVM/netkvm.sys": "MZ",
	}
	for p, c := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "build.pkr.hcl"), []byte(`
source "qemu" "win" {
  iso_url        = "win.iso"
  iso_checksum   = "none"
  floppy_files   = ["Autounattend.xml", "scripts"]
  floppy_dirs    = ["drivers"]
  floppy_content = { "meta/notes.txt" = "from floppy_content" }
  floppy_label   = "answers"
  ssh_username   = "packer"
}
build { sources = ["source.qemu.win"] }
`), 0o644)
	plan, err := hcl.Load(context.Background(), hcl.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	st := &state{plan: plan, source: &plan.Sources[0], dir: t.TempDir()}
	if err := (stepFloppy{}).run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	for floppy, want := range map[string]string{
		"Autounattend.xml":          files["Autounattend.xml"],
		"a.ps1":                     files["scripts/a.ps1"],
		"b.ps1":                     files["scripts/deeper/b.ps1"],
		"drivers/viostor/w10.inf":   files["drivers/viostor/w10.inf"],
		"drivers/NetKVM/netkvm.sys": files["drivers/NetKVM/netkvm.sys"],
		"meta/notes.txt":            "from floppy_content",
	} {
		out, err := exec.Command("mcopy", "-n", "-i", st.floppyPath, "::/"+floppy, "-").Output()
		if err != nil || string(out) != want {
			t.Errorf("%s: %q (%v), want %q", floppy, out, err, want)
		}
	}
	out, err := exec.Command("mlabel", "-i", st.floppyPath, "-s", "::").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ANSWERS") {
		t.Errorf("label: %s (%v)", out, err)
	}
}
