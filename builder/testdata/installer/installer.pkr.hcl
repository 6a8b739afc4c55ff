# The start of an ISO install: Debian's installer (make installer) booted
# from its CD, told by a typed boot command (in steps) where its preseed file is and
# which mirror to use (the build's HTTP server); the mirror directory comes
# from the preseed file, so the installer asking the server for it shows
# the file was read and applied.
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
  # Packer's boot_steps: the boot command in steps, each said as typed.
  boot_steps = [
    ["install auto=true priority=critical ", "Automated install"],
    ["url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg "],
    ["mirror/http/hostname={{ .HTTPIP }}:{{ .HTTPPort }}<enter>", "The mirror, and go"],
  ]
  http_content = {
    "/preseed.cfg" = <<-EOF
      d-i debian-installer/locale string en_US.UTF-8
      d-i keyboard-configuration/xkb-keymap select us
      d-i netcfg/get_hostname string installer
      d-i netcfg/get_domain string local
      d-i mirror/country string manual
      d-i mirror/http/directory string /preseed-applied
      d-i mirror/http/proxy string
    EOF
  }
  ssh_username = "root"
  ssh_password = "not-used"
  ssh_timeout  = "20m"
}

build {
  sources = ["source.qemu.installer"]
}
