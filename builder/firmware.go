package builder

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/clawimg/clawimg/internal/atomicfile"
	"github.com/clawimg/clawimg/internal/qemu"
)

// efiVarsFile is the build VM's UEFI variable store in its directory, and
// the name Packer gives it in output_directory.
const efiVarsFile = "efivars.fd"

// firmware gives the build VM its firmware: UEFI flash devices for
// efi_boot (the recipe's files or the host's OVMF, with a copy of the
// variable store the firmware may write), or a BIOS file.
func firmware(st *state, cfg *qemu.Config) error {
	s := st.source
	if s.Firmware != "" {
		if err := needFile("firmware", s.Firmware); err != nil {
			return err
		}
		cfg.BIOS, cfg.BIOSPflash = s.Firmware, s.UsePflash
	}
	if !s.EFIBoot {
		return nil
	}
	code, vars := s.EFIFirmwareCode, s.EFIFirmwareVars
	if code == "" || (vars == "" && !s.EFIDropVars) {
		foundCode, foundVars, err := qemu.FindUEFI(s.QEMUBinary)
		if err != nil {
			return fmt.Errorf("efi_boot: %w", err)
		}
		if code == "" {
			code = foundCode
		}
		if vars == "" {
			vars = foundVars
		}
	}
	if err := needFile("efi_firmware_code", code); err != nil {
		return err
	}
	cfg.EFI = &qemu.EFI{Code: code}
	if s.EFIDropVars {
		return nil
	}
	if err := needFile("efi_firmware_vars", vars); err != nil {
		return err
	}
	cfg.EFI.Vars = filepath.Join(st.dir, efiVarsFile)
	return qemu.CopyVars(vars, cfg.EFI.Vars)
}

func needFile(what, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %s is not a regular file", what, path)
	}
	return nil
}

// writeEFIVars leaves the build VM's variable store beside the disk in
// output_directory, as Packer does: whoever boots that disk elsewhere
// needs its boot entries.
func writeEFIVars(st *state, dir string) error {
	src := filepath.Join(st.dir, efiVarsFile)
	b, err := os.ReadFile(src)
	if os.IsNotExist(err) {
		return nil // no variable store (efi_drop_efivars), or no UEFI
	}
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, efiVarsFile), b, 0o644); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}
