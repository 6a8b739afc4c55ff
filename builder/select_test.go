package builder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawimg/clawimg/hcl"
)

const selectRecipe = `
source "qemu" "x" {
  iso_url      = "x.img"
  iso_checksum = "none"
  disk_image   = true
  ssh_username = "debian"
}
source "qemu" "z" {
  iso_url      = "z.img"
  iso_checksum = "none"
  disk_image   = true
  ssh_username = "debian"
}
source "amazon-ebs" "y" {
  region = "eu-west-1"
}
build {
  name    = "a"
  sources = ["source.qemu.x", "source.amazon-ebs.y"]
}
build {
  name    = "b"
  sources = ["source.qemu.z"]
}
`

// TestSelectBuild: Packer's -only and -except pick the one qemu source a
// run builds; other builders' sources are skipped and listed.
func TestSelectBuild(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.pkr.hcl"), []byte(selectRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := hcl.Load(context.Background(), hcl.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Warnings) != 1 || !strings.Contains(plan.Warnings[0].Message(), "source.amazon-ebs.y: clawimg builds qemu sources only") {
		t.Fatalf("warnings: %v", plan.Warnings)
	}
	for _, tc := range []struct {
		name         string
		build        string
		only, except []string
		want, skip   string // build.source, skipped; or the error's text
		err          bool
	}{
		{name: "two qemu sources", want: "choose one with -only=BUILD.qemu.NAME", err: true},
		{name: "only TYPE.NAME", only: []string{"qemu.x"}, want: "a.source.qemu.x"},
		{name: "only BUILD.*", only: []string{"a.*"}, want: "a.source.qemu.x", skip: "source.amazon-ebs.y"},
		{name: "glob", only: []string{"*.z"}, want: "b.source.qemu.z"},
		{name: "except", except: []string{"qemu.z"}, want: "a.source.qemu.x", skip: "source.amazon-ebs.y"},
		{name: "by build", build: "b", want: "b.source.qemu.z"},
		{name: "only another builder", only: []string{"amazon-ebs.y"}, want: "no qemu source", err: true},
		{name: "nothing matches", only: []string{"qemu.nope"}, want: "-only/-except select no qemu source (the recipe's: a.qemu.x, a.amazon-ebs.y, b.qemu.z)", err: true},
		{name: "no such build", build: "c", want: `no build named "c"`, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := selectBuild(plan, tc.build, tc.only, tc.except)
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.build.Name + "." + sel.source; got != tc.want || strings.Join(sel.skipped, ",") != tc.skip {
				t.Fatalf("selected %s, skipped %v; want %s, %s", got, sel.skipped, tc.want, tc.skip)
			}
		})
	}
}
