# http_content (Packer 1.7+, the qemu plugin): the preseed file is written
# in the recipe instead of an http/ directory.
variable "hostname" {
  type    = string
  default = "deb12"
}

source "qemu" "debian" {
  iso_url      = "https://cdimage.debian.org/debian-cd/12.8.0/amd64/iso-cd/debian-12.8.0-amd64-netinst.iso"
  iso_checksum = "sha256:04396d12b0f377958a070c38a923c227832fa3b3e18ddc013936ecf492e9fbb3"
  http_content = {
    "/preseed.cfg" = templatefile("${path.root}/preseed.pkrtpl", { hostname = var.hostname })
  }
  boot_command = [
    "<esc><wait>auto url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg<enter>"
  ]
  ssh_username = "root"
  ssh_password = "packer"
  ssh_timeout  = "1h"
}

build {
  sources = ["source.qemu.debian"]
}
