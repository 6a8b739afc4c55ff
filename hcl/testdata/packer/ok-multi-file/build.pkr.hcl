locals {
  install = "apt-get install -y ${join(" ", var.packages)}"
}

source "qemu" "debian" {
  iso_url      = "base.qcow2"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  disk_image   = true
  disk_size    = 8192
  memory       = 2048
  ssh_username = var.user
  ssh_timeout  = "15m"
}

build {
  sources = ["source.qemu.debian"]

  provisioner "shell" {
    execute_command   = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
    inline            = [local.install, "ufw --force enable"]
    expect_disconnect = true
  }
}
