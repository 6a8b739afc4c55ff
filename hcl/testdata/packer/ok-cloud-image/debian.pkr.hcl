variable "image_url" {
  type    = string
  default = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
}

variable "image_sha512" {
  type    = string
  default = "sha512:2a2b7f7d37d1a9f5e3b5c1b8d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2"
}

source "qemu" "debian" {
  iso_url          = var.image_url
  iso_checksum     = var.image_sha512
  disk_image       = true
  disk_size        = "10G"
  disk_interface   = "virtio"
  format           = "qcow2"
  output_directory = "output-debian"
  vm_name          = "debian-12.qcow2"
  accelerator      = "kvm"
  cpus             = 2
  memory           = 2048
  headless         = true
  ssh_username     = "debian"
  ssh_timeout      = "15m"
  shutdown_command = "sudo shutdown -P now"
  qemuargs         = [["-smbios", "type=1,serial=ds=nocloud"]]
}

build {
  sources = ["source.qemu.debian"]

  provisioner "shell" {
    execute_command = "sudo -S sh -c '{{ .Vars }} {{ .Path }}'"
    inline          = ["apt-get update", "apt-get -y upgrade", "apt-get clean"]
  }
}
