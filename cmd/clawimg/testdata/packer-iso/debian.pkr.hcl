# Debian 12 installed from its installer CD, the way Packer recipes for
# Debian do it: a boot command at the CD's boot prompt points the installer
# at a preseed file served by the build's HTTP server, the installer runs
# unattended and reboots into the installed system, where the build logs in
# as root with a password. (make e2e-packer; the CD is make installer's.)
packer {
  required_plugins {
    qemu = {
      version = ">= 1.0.0"
      source  = "github.com/hashicorp/qemu"
    }
  }
}

variable "iso" {
  type        = string
  description = "the installer CD (build/installer/debian-12-netboot.iso)"
}

variable "mirror" {
  type        = string
  default     = "deb.debian.org"
  description = "the Debian mirror the installer installs from (it must serve the installer's .udeb files)"
}

variable "root_password" {
  type      = string
  default   = "packer"
  sensitive = true
}

source "qemu" "debian12" {
  iso_url          = var.iso
  iso_checksum     = "none"
  disk_image       = false
  disk_size        = "6G"
  format           = "qcow2"
  cpus             = 2
  memory           = 1024
  headless         = true
  http_directory   = "${path.root}/http"
  boot_wait        = "5s"
  boot_key_interval = "20ms"
  boot_command = [
    "install auto=true priority=critical ",
    "url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg ",
    "mirror/http/hostname=${var.mirror} ",
    "netcfg/get_hostname=debian12 netcfg/get_domain=local<enter>",
  ]
  ssh_username     = "root"
  ssh_password     = var.root_password
  ssh_timeout      = "90m"
  shutdown_command = "shutdown -P now"
}

build {
  name    = "debian-installed"
  sources = ["source.qemu.debian12"]

  provisioner "shell" {
    name   = "what the installer left"
    inline = [
      "cat /etc/debian_version",
      "systemctl is-enabled cloud-init.service qemu-guest-agent.service ssh.service",
      "apt-get clean",
      # What only the build needed: root logs in with a password no more.
      "rm -f /etc/ssh/sshd_config.d/10-build.conf",
      "passwd -l root",
    ]
  }
}
