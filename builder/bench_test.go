package builder

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/clawimg/clawimg/images"
	"github.com/clawimg/clawimg/internal/guest"
)

// packerRecipe is the test recipe written for Packer 1.6.6's qemu builder:
// same base, same provisioners, same accelerator (multi-threaded TCG, set
// through qemuargs as Packer 1.6 cannot), a NoCloud seed from cd_files.
const packerRecipe = `
source "qemu" "fixture" {
  iso_url              = "%[1]s"
  iso_checksum         = "none"
  disk_image           = true
  disk_size            = "6G"
  format               = "qcow2"
  accelerator          = "tcg"
  qemuargs             = [["-machine", "type=pc"], ["-accel", "tcg,thread=multi"], ["-cpu", "max"], ["-smp", "2"], ["-m", "2048"]]
  headless             = true
  cd_files             = ["%[2]s/user-data", "%[2]s/meta-data"]
  cd_label             = "cidata"
  ssh_username         = "debian"
  ssh_private_key_file = "%[2]s/id_ed25519"
  ssh_timeout          = "5m"
  shutdown_command     = "sudo shutdown -P now"
  output_directory     = "%[2]s/output"
}

build {
  sources = ["source.qemu.fixture"]

  provisioner "shell" {
    environment_vars = ["GREETING=hello from clawimg", "TOKEN=tok-SECRET-4242"]
    inline = [
      "echo \"$GREETING\" | sudo tee /etc/clawimg-greeting",
      "echo \"the token is $TOKEN\"",
      "test \"$TOKEN\" = tok-SECRET-4242",
    ]
  }
  provisioner "shell" {
    script          = "%[3]s/setup.sh"
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
  }
  provisioner "file" {
    source      = "%[3]s/files/motd"
    destination = "/tmp/motd"
  }
  provisioner "shell" {
    inline = ["sudo mv /tmp/motd /etc/motd", "sudo chown root:root /etc/motd"]
  }
}
`

// BenchmarkBuildVsPacker builds the test recipe with clawimg and the
// equivalent recipe with Debian's packer 1.6.6, in the same run.
func BenchmarkBuildVsPacker(b *testing.B) {
	if _, err := os.Stat(fixture); err != nil {
		b.Skip("no fixture: run make fixture")
	}
	packer, err := exec.LookPath("packer")
	if err != nil {
		b.Skip("packer not found: run make deps")
	}
	ctx := context.Background()
	home := b.TempDir()
	store, err := images.Open(filepath.Join(home, "store"), nil)
	if err != nil {
		b.Fatal(err)
	}
	e := &env{home: home, store: store}
	opts := e.options(b, "testdata/recipe")
	opts.Accel = "tcg"
	start := time.Now()
	res, err := Build(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	ours := time.Since(start)

	dir := b.TempDir()
	kp, err := guest.NewKeyPair("packer-bench")
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "id_ed25519"), kp.PrivatePEM, 0o600)
	userData := "#cloud-config\nusers:\n  - default\n  - name: debian\n    sudo: ALL=(ALL) NOPASSWD:ALL\n    shell: /bin/bash\n    ssh_authorized_keys:\n      - " + kp.AuthorizedKey + "\n"
	os.WriteFile(filepath.Join(dir, "user-data"), []byte(userData), 0o644)
	os.WriteFile(filepath.Join(dir, "meta-data"), []byte("instance-id: packer-bench\nlocal-hostname: packer\n"), 0o644)
	recipeDir, _ := filepath.Abs("testdata/recipe")
	os.WriteFile(filepath.Join(dir, "build.pkr.hcl"), []byte(fmt.Sprintf(packerRecipe, fixture, dir, recipeDir)), 0o644)
	cmd := exec.CommandContext(ctx, packer, "build", "build.pkr.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "PACKER_CACHE_DIR="+filepath.Join(dir, "cache"))
	start = time.Now()
	out, err := cmd.CombinedOutput()
	theirs := time.Since(start)
	if err != nil {
		b.Fatalf("packer build: %v\n%s", err, tail(string(out), 30))
	}
	outDir := filepath.Join(dir, "output")
	var packerSize int64
	entries, _ := os.ReadDir(outDir)
	for _, en := range entries {
		if fi, err := en.Info(); err == nil {
			packerSize += fi.Size()
		}
	}
	fmt.Printf("\nBuild of builder/testdata/recipe on the Debian fixture, multi-threaded TCG, same run\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\ttime\tratio\toutput\tvirtual\ttarget\t")
	fmt.Fprintf(tw, "clawimg build\t%.1fs\t%.2f\t%s stored (zstd chunks)\t%s\tratio ≤ 1.0\t\n", ours.Seconds(), ours.Seconds()/theirs.Seconds(),
		images.HumanBytes(res.Image.Size), images.HumanBytes(res.Image.VirtualSize))
	fmt.Fprintf(tw, "packer 1.6.6 build\t%.1fs\t1.00\t%s qcow2\t%s\treference\t\n", theirs.Seconds(), images.HumanBytes(packerSize), images.HumanBytes(res.Image.VirtualSize))
	tw.Flush()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
