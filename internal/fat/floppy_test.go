package fat

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tool is a program of dosfstools or mtools (make deps installs both):
// the floppies are read back by implementations other than this one.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return filepath.Join(dir, name)
			}
		}
		t.Fatalf("%s is missing (make deps installs it)", name)
	}
	return p
}

func writeImage(t *testing.T, label string, files []File) string {
	t.Helper()
	img, err := Floppy(label, files, time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(img) != Size {
		t.Fatalf("image of %d bytes, want %d", len(img), Size)
	}
	p := filepath.Join(t.TempDir(), "floppy.img")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool(t, "fsck.fat"), "-n", "-v", p).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat: %v\n%s", err, out)
	}
	return p
}

func TestFloppyReadsBack(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 70000/16) // many clusters
	many := make([]File, 0, 40)
	for i := range 40 {
		many = append(many, File{Path: "drivers/amd64/file-with-a-long-name-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".inf", Data: []byte{byte(i)}})
	}
	for _, tc := range []struct {
		name  string
		label string
		files []File
	}{
		{"short names", "packer", []File{{"PRESEED.CFG", []byte("d-i debian-installer/locale string en_US\n")}, {"KS.CFG", []byte("text\n")}}},
		{"long and lower-case names", "cidata", []File{{"Autounattend.xml", []byte("<unattend/>\n")}, {"user-data", []byte("#cloud-config\n")}, {"meta-data", nil}, {"a name with spaces.txt", []byte("x")}}},
		{"same short base", "floppy", []File{{"longname-one.txt", []byte("1")}, {"longname-two.txt", []byte("2")}, {"longname-three.txt", []byte("3")}}},
		{"directories", "drivers", append([]File{{"scripts/setup/run.sh", []byte("#!/bin/sh\n")}, {"big.bin", big}}, many...)},
		{"unicode", "u", []File{{"grüße.txt", []byte("hallo")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := writeImage(t, tc.label, tc.files)
			for _, f := range tc.files {
				out, err := exec.Command(tool(t, "mcopy"), "-n", "-i", img, "::/"+f.Path, "-").Output()
				if err != nil {
					t.Fatalf("mcopy %s: %v", f.Path, err)
				}
				if !bytes.Equal(out, f.Data) {
					t.Errorf("%s: read back %d bytes, want %d", f.Path, len(out), len(f.Data))
				}
			}
			out, err := exec.Command(tool(t, "mlabel"), "-i", img, "-s", "::").CombinedOutput()
			if err != nil || !strings.Contains(string(out), strings.ToUpper(tc.label)) {
				t.Errorf("label: %v %s, want %s", err, out, strings.ToUpper(tc.label))
			}
		})
	}
}

func TestFloppyRefuses(t *testing.T) {
	full := bytes.Repeat([]byte{1}, Size)
	var crowded []File
	for i := range rootEntries + 1 {
		crowded = append(crowded, File{Path: strings.Repeat("F", 1) + string(rune('A'+i%26)) + string(rune('A'+i/26)), Data: nil})
	}
	for _, tc := range []struct {
		name  string
		files []File
		want  string
	}{
		{"too big", []File{{"big.iso", full}}, "does not fit"},
		{"root directory full", crowded, "entries in its root directory"},
		{"names differing in case", []File{{"Setup.ini", nil}, {"SETUP.INI", nil}}, "two files named"},
		{"file and directory", []File{{"a", nil}, {"a/b", nil}}, "two files named"},
		{"no name", []File{{"/", nil}}, "not a file name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Floppy("x", tc.files, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if tc.name == "too big" && !errors.Is(err, ErrTooBig) {
				t.Errorf("%v is not ErrTooBig", err)
			}
		})
	}
}

func TestShortNames(t *testing.T) {
	nodes := []*node{{name: "README.TXT"}, {name: "readme.txt.bak"}, {name: "Makefile"}, {name: "makefile.am"}, {name: ".hidden"}}
	var got []string
	for _, s := range shortNames(nodes) {
		got = append(got, strings.TrimSpace(string(s[:8]))+"."+strings.TrimSpace(string(s[8:])))
	}
	want := "README.TXT README~1.BAK MAKEFI~1. MAKEFI~1.AM HIDDEN~1."
	if strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
}
