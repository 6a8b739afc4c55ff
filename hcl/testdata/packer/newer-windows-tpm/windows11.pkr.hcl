# A Windows 11 install as public recipes write one: UEFI and a TPM 2.0
# (Windows 11 wants both), the answer file on a floppy, "press any key to
# boot from CD" answered in steps, preallocated disk metadata, and
# Windows' own OpenSSH server as the communicator (Packer 1.7+ fields).
variable "iso_url" {
  type    = string
  default = "https://software-download.example/Win11_English_x64.iso"
}

variable "iso_checksum" {
  type    = string
  default = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
}

variable "admin_password" {
  type      = string
  sensitive = true
  default   = "packer"
}

source "qemu" "windows11" {
  iso_url          = var.iso_url
  iso_checksum     = var.iso_checksum
  machine_type     = "q35"
  cpus             = 2
  memory           = 4096
  disk_size        = "64G"
  disk_interface   = "ide"
  format           = "qcow2"
  efi_boot         = true
  vtpm             = true
  tpm_device_type  = "tpm-tis"
  floppy_files     = ["answer/Autounattend.xml"]
  boot_wait        = "2s"
  boot_steps = [
    ["<enter><wait><enter>", "Press any key to boot from CD"],
    ["<wait30s>", "Windows Setup reads the answer file"],
  ]
  qemu_img_args {
    create = ["-o", "preallocation=metadata"]
  }
  communicator     = "ssh"
  ssh_username     = "Administrator"
  ssh_password     = var.admin_password
  ssh_timeout      = "2h"
  shutdown_command = "shutdown /s /t 10 /f"
  output_directory = "output-windows11"
  vm_name          = "windows11.qcow2"
}

build {
  sources = ["source.qemu.windows11"]

  provisioner "shell" {
    inline = ["powershell -Command Get-Tpm"]
  }
}
