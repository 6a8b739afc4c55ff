package qemu

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFirmwareArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"bios", Config{}, nil},
		{"bios file", Config{BIOS: "/fw/bios.bin"}, []string{"-bios", "/fw/bios.bin"}},
		{"bios file in flash", Config{BIOS: "/fw/OVMF.fd", BIOSPflash: true}, []string{
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/OVMF.fd"}},
		{"efi", Config{EFI: &EFI{Code: "/fw/code.fd", Vars: "/vm/efivars.fd"}}, []string{
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/code.fd",
			"-drive", "if=pflash,format=raw,unit=1,file=/vm/efivars.fd"}},
		{"efi without variables", Config{EFI: &EFI{Code: "/fw/code.fd"}}, []string{
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/code.fd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.firmwareArgs(); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			// And they are on the command line.
			args := strings.Join(tc.cfg.Args(), " ")
			if len(tc.want) > 0 && !strings.Contains(args, strings.Join(tc.want, " ")) {
				t.Errorf("Args lacks them: %s", args)
			}
			if len(tc.want) == 0 && (strings.Contains(args, "pflash") || strings.Contains(args, "-bios")) {
				t.Errorf("Args has firmware devices: %s", args)
			}
		})
	}
}

func TestFindUEFI(t *testing.T) {
	if _, _, err := FindUEFI("qemu-system-riscv64"); !errors.Is(err, ErrNoUEFIFirmware) {
		t.Errorf("riscv64: %v", err)
	}
	code, vars, err := FindUEFI("/usr/bin/qemu-system-x86_64")
	if err != nil {
		if _, statErr := os.Stat("/usr/share/OVMF"); statErr == nil {
			t.Fatalf("OVMF is installed, but: %v", err)
		}
		if !errors.Is(err, ErrNoUEFIFirmware) || !strings.Contains(err.Error(), "OVMF_CODE") {
			t.Fatalf("no firmware: %v", err)
		}
		t.Skip("no OVMF here (make deps installs it)")
	}
	if filepath.Dir(code) != filepath.Dir(vars) || !strings.Contains(vars, "VARS") && !strings.Contains(vars, "vars") {
		t.Errorf("code %s, vars %s: not a pair", code, vars)
	}
	// A VM's own variable store: a private copy.
	dst := filepath.Join(t.TempDir(), "efivars.fd")
	if err := CopyVars(vars, dst); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(vars)
	b, _ := os.ReadFile(dst)
	fi, _ := os.Stat(dst)
	if string(a) != string(b) || fi.Mode().Perm() != 0o600 {
		t.Errorf("copy: %d bytes of %d, mode %v", len(b), len(a), fi.Mode())
	}
}
