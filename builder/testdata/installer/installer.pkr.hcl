# The start of an ISO install: Debian's installer (make installer) booted
# from its CD, told by a typed boot command where its preseed file is.
variable "iso" {
  type = string
}

# Every test recipe gets these; this one has no use for them.
variable "base" {
  type = string
}

variable "out_dir" {
  type = string
}

source "qemu" "installer" {
  iso_url      = var.iso
  iso_checksum = "none"
  disk_size    = "4G"
  memory       = 1024
  boot_wait    = "3s"
  boot_command = [
    "install auto=true priority=critical ",
    "url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg<enter>",
  ]
  http_content = {
    "/preseed.cfg" = "d-i debian-installer/locale string en_US.UTF-8\n"
  }
  ssh_username = "root"
  ssh_password = "not-used"
  ssh_timeout  = "20m"
}

build {
  sources = ["source.qemu.installer"]
}
