package qemu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EFI is UEFI firmware as two flash devices, as OVMF (x86_64) and AAVMF
// (arm64) are shipped: the firmware's code, read-only and shared, and the
// variable store (boot entries, settings), a per-VM copy it writes to.
type EFI struct {
	Code string
	// Vars is the VM's own variable store; empty attaches none (Packer's
	// efi_drop_efivars), and the firmware then keeps its variables in RAM.
	Vars string
}

// FirmwareEFI is the Firmware of an image that boots through UEFI (an
// image config's, a warm machine's); "" is the machine's BIOS.
const FirmwareEFI = "efi"

// ovmfPairs are where distributions and Homebrew put UEFI firmware: code
// and the variable store template that goes with it (sizes must match).
var ovmfPairs = map[string][][2]string{
	"qemu-system-x86_64": {
		{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"},         // Debian 12, Ubuntu 24.04
		{"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"},               // older Debian and Ubuntu
		{"/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd"},     // Fedora
		{"/usr/share/edk2/x64/OVMF_CODE.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd"}, // Arch
		{"/opt/homebrew/share/qemu/edk2-x86_64-code.fd", "/opt/homebrew/share/qemu/edk2-i386-vars.fd"},
		{"/usr/local/share/qemu/edk2-x86_64-code.fd", "/usr/local/share/qemu/edk2-i386-vars.fd"},
		{"/usr/share/qemu/edk2-x86_64-code.fd", "/usr/share/qemu/edk2-i386-vars.fd"},
	},
	"qemu-system-aarch64": {
		{"/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"}, // Debian, Ubuntu
		{"/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw", "/usr/share/edk2/aarch64/vars-template-pflash.raw"},
		{"/opt/homebrew/share/qemu/edk2-aarch64-code.fd", "/opt/homebrew/share/qemu/edk2-arm-vars.fd"},
		{"/usr/local/share/qemu/edk2-aarch64-code.fd", "/usr/local/share/qemu/edk2-arm-vars.fd"},
		{"/usr/share/qemu/edk2-aarch64-code.fd", "/usr/share/qemu/edk2-arm-vars.fd"},
	},
}

// ErrNoUEFIFirmware says that no UEFI firmware was found for a binary.
var ErrNoUEFIFirmware = errors.New("no UEFI firmware found")

// FindUEFI returns the first UEFI firmware pair installed for binary:
// its code and the template of its variable store.
func FindUEFI(binary string) (code, varsTemplate string, err error) {
	pairs := ovmfPairs[filepath.Base(binary)]
	for _, p := range pairs {
		if regular(p[0]) && regular(p[1]) {
			return p[0], p[1], nil
		}
	}
	var tried []string
	for _, p := range pairs {
		tried = append(tried, p[0])
	}
	if len(tried) == 0 {
		return "", "", fmt.Errorf("%w for %s", ErrNoUEFIFirmware, binary)
	}
	return "", "", fmt.Errorf("%w for %s (looked for %s)", ErrNoUEFIFirmware, binary, strings.Join(tried, ", "))
}

func regular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// CopyVars makes dst a VM's own variable store from template, 0600: the
// firmware writes its boot entries into it.
func CopyVars(template, dst string) error {
	b, err := os.ReadFile(template)
	if err != nil {
		return fmt.Errorf("read UEFI variable store template: %w", err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		return fmt.Errorf("write UEFI variable store: %w", err)
	}
	return nil
}

// firmwareArgs are the flash devices of e, or -bios for a firmware file.
func (c Config) firmwareArgs() []string {
	var args []string
	switch {
	case c.BIOS != "" && c.BIOSPflash:
		args = append(args, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+c.BIOS)
	case c.BIOS != "":
		args = append(args, "-bios", c.BIOS)
	}
	if c.EFI != nil {
		args = append(args, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+c.EFI.Code)
		if c.EFI.Vars != "" {
			args = append(args, "-drive", "if=pflash,format=raw,unit=1,file="+c.EFI.Vars)
		}
	}
	return args
}
