package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPackerISOInstall is make e2e-packer (CLAWIMG_E2E_PACKER=1): a
// Packer-style recipe installs Debian 12 from its installer CD (make
// installer), driven by a boot command and a preseed file from
// http_directory, into an image in the store; the image then launches and
// answers over SSH. The installer downloads its own components (.udeb
// files) from the mirror, DEBIAN_MIRROR's host (default deb.debian.org);
// a mirror that does not serve them is said, and the test skipped.
func TestPackerISOInstall(t *testing.T) {
	if os.Getenv("CLAWIMG_E2E_PACKER") == "" {
		t.Skip("set CLAWIMG_E2E_PACKER=1 (make e2e-packer) to install Debian from its installer CD")
	}
	mirror := "deb.debian.org"
	if m := os.Getenv("DEBIAN_MIRROR"); m != "" {
		mirror = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(m, "http://"), "https://"), "/debian")
	}
	if err := mirrorServesUdebs(mirror); err != nil {
		t.Skipf("the mirror cannot serve Debian's installer: %v", err)
	}
	iso, _ := filepath.Abs("../../build/installer/debian-12-netboot.iso")
	if _, err := os.Stat(iso); err != nil {
		t.Fatal("no installer CD: run make installer")
	}
	e := newE2E(t, "e2e-packer")
	recipe, _ := filepath.Abs("testdata/packer-iso")
	if code, out := e.run(nil, "validate", "-var", "iso="+iso, recipe); code != 0 {
		t.Fatalf("validate: exit %d\n%s", code, out)
	}
	start := time.Now()
	out, errOut := e.must("build", "-t", "debian-installed:12", "-var", "iso="+iso, "-var", "mirror="+mirror, recipe)
	e.figure("ISO install (boot command, preseed over HTTP, the whole Debian install) %s", time.Since(start).Round(time.Second))
	log := errOut + out
	if !strings.Contains(log, "GET /preseed.cfg 200") {
		t.Errorf("the build log does not show the preseed fetched:\n%s", log)
	}
	if !strings.Contains(log, "12.") {
		t.Errorf("the provisioner did not print the Debian version:\n%s", log)
	}
	start = time.Now()
	e.must("launch", "debian-installed:12", "--name", "installed", "--driver", "qemu", "--timeout", "15m")
	e.figure("launch of the installed image until SSH %s", time.Since(start).Round(time.Second))
	if code, got := e.run(nil, "exec", "installed", "--", "sh", "-c", "hostname; cat /etc/debian_version"); code != 0 ||
		!strings.HasPrefix(got, "installed\n12.") {
		t.Fatalf("exec in the installed image: exit %d %q", code, got)
	}
	// The build's root password is gone from the image.
	if code, got := e.run(nil, "exec", "installed", "--", "sudo", "passwd", "-S", "root"); code != 0 || !strings.Contains(got, "root L") {
		t.Errorf("root's password in the image: exit %d %q", code, got)
	}
}

// mirrorServesUdebs checks that the mirror serves the installer's first
// component listed in its index (some proxies serve .deb files only).
func mirrorServesUdebs(host string) error {
	base := "http://" + host + "/debian/"
	resp, err := http.Get(base + "dists/bookworm/main/debian-installer/binary-amd64/Packages.gz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the installer's package index: %s", resp.Status)
	}
	z, err := gzip.NewReader(resp.Body)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "Filename: "); ok {
			r, err := http.Head(base + name)
			if err != nil {
				return err
			}
			r.Body.Close()
			if r.StatusCode != http.StatusOK {
				return fmt.Errorf("%s%s: %s (the installer's components are .udeb files)", base, name, r.Status)
			}
			return nil
		}
	}
	return fmt.Errorf("no component in the installer's package index")
}
