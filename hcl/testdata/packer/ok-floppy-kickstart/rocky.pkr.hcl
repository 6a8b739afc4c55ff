# An installer that reads its kickstart from drive A:, with a data disk
# beside the system disk, the way older RHEL-family recipes are written.
variable "iso_url" {
  type    = string
  default = "https://download.rockylinux.org/pub/rocky/9/isos/x86_64/Rocky-9-latest-x86_64-boot.iso"
}

source "qemu" "rocky9" {
  iso_url              = var.iso_url
  iso_checksum         = "none"
  disk_size            = "20G"
  disk_additional_size = ["10G"]
  disk_interface       = "virtio-scsi"
  format               = "qcow2"
  floppy_files         = ["floppy/ks.cfg"]
  floppy_dirs          = ["drivers"]
  boot_wait            = "10s"
  boot_command         = ["<up><tab> inst.text inst.ks=hd:fd0:/ks.cfg<enter><wait>"]
  ssh_username         = "root"
  ssh_password         = "packer"
  ssh_timeout          = "45m"
  shutdown_command     = "shutdown -P now"
  output_directory     = "output-rocky9"
  vm_name              = "rocky9.qcow2"
  skip_compaction      = true
}

build {
  sources = ["source.qemu.rocky9"]

  provisioner "shell" {
    inline = ["dnf -y update", "mkfs.xfs /dev/sdb"]
  }
}
