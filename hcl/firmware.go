package hcl

import (
	"os"
)

// decodeFirmware reads how the build VM boots: UEFI (efi_boot, with
// OVMF's code and variable store, found on the host when not named) or a
// BIOS file (firmware). Firmware paths are the host's, as in Packer: a
// missing file is a warning here (the recipe may be validated on another
// machine) and an error when the build starts.
func (ev *evaluator) decodeFirmware(d *decoder, s *QEMUSource) {
	d.boolean("efi_boot", &s.EFIBoot)
	d.boolean("efi_drop_efivars", &s.EFIDropVars)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"efi_firmware_code", &s.EFIFirmwareCode}, {"efi_firmware_vars", &s.EFIFirmwareVars}, {"firmware", &s.Firmware}} {
		a, ok := d.attrs[f.name]
		if !ok {
			continue
		}
		d.str(f.name, f.dst)
		if *f.dst == "" {
			continue
		}
		*f.dst = join(ev.root, *f.dst)
		if _, err := os.Stat(*f.dst); err != nil {
			d.warnf(a, "Firmware not found", "%s: %s; the build needs it on the machine it runs on.", *f.dst, errText(err))
		}
		if f.name != "firmware" && !s.EFIBoot {
			d.warnf(a, "Argument ignored", "%s is used only with efi_boot = true.", f.name)
		}
	}
	if a, ok := d.attrs["efi_drop_efivars"]; ok && s.EFIDropVars && !s.EFIBoot {
		d.warnf(a, "Argument ignored", "efi_drop_efivars is used only with efi_boot = true.")
	}
	d.boolean("use_pflash", &s.UsePflash)
	if a, ok := d.attrs["use_pflash"]; ok && s.UsePflash && s.Firmware == "" {
		d.warnf(a, "Argument ignored", "use_pflash is used only with firmware (efi_boot's firmware is always in flash devices).")
	}
	if a, ok := d.attrs["firmware"]; ok && s.Firmware != "" && s.EFIBoot {
		d.errorf(a, "Conflicting arguments", "firmware (a BIOS file for -bios) and efi_boot (UEFI in flash devices) are two ways to boot: set one of them.")
	}
}

// decodeTPM reads the build VM's emulated TPM (vtpm, use_tpm1,
// tpm_device_type): a TPM 2.0 (1.2 with use_tpm1) from swtpm, for
// installers and provisioners that need one (Windows 11, measured boot,
// systemd-cryptenroll). Like Packer's, it exists during the build only.
func (ev *evaluator) decodeTPM(d *decoder, s *QEMUSource) {
	d.boolean("vtpm", &s.VTPM)
	d.boolean("use_tpm1", &s.UseTPM1)
	d.str("tpm_device_type", &s.TPMDeviceType)
	if s.TPMDeviceType != "" {
		d.oneOf("tpm_device_type", s.TPMDeviceType, "tpm-tis", "tpm-crb", "tpm-tis-device")
	}
	d.onlyWith(s.VTPM, "vtpm = true", "use_tpm1", "tpm_device_type")
}
