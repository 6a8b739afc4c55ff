# UEFI boot through OVMF (the qemu plugin's efi_boot, Packer 1.7+).
source "qemu" "uefi" {
  iso_url           = "base.qcow2"
  iso_checksum      = "none"
  disk_image        = true
  machine_type      = "q35"
  efi_boot          = true
  efi_firmware_code = "/usr/share/OVMF/OVMF_CODE_4M.fd"
  efi_firmware_vars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
  ssh_username      = "debian"
}

build {
  sources = ["source.qemu.uefi"]
}
