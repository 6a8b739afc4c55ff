# A plain Ubuntu cloud image, hardened: firewall with SSH only, fail2ban,
# unattended security upgrades. No OpenClaw. Build it with:
#   clawimg build examples/hardened-cloud -t hardened:24.04

variable "release" {
  type        = string
  default     = "24.04"
  description = "Ubuntu release of the cloud image."
}

locals {
  images = "https://cloud-images.ubuntu.com/releases/${var.release}/release"
}

source "qemu" "ubuntu" {
  iso_url          = "${local.images}/ubuntu-${var.release}-server-cloudimg-amd64.img"
  iso_checksum     = "file:${local.images}/SHA256SUMS"
  disk_image       = true
  disk_size        = "10G"
  cpus             = 2
  memory           = 2048
  ssh_username     = "ubuntu"
  ssh_timeout      = "15m"
  shutdown_command = "sudo systemctl poweroff"
}

build {
  name    = "hardened"
  sources = ["source.qemu.ubuntu"]

  provisioner "shell" {
    environment_vars = ["DEBIAN_FRONTEND=noninteractive"]
    execute_command  = "chmod +x {{.Path}}; sudo env {{.Vars}} {{.Path}}"
    inline = [
      "apt-get update",
      "apt-get -y full-upgrade",
      "apt-get install -y --no-install-recommends ufw fail2ban unattended-upgrades",
      "ufw default deny incoming",
      "ufw allow OpenSSH",
      "ufw --force enable",
      "printf '[sshd]\\nenabled = true\\nbackend = systemd\\n' > /etc/fail2ban/jail.local",
      "systemctl enable fail2ban",
      "printf 'PasswordAuthentication no\\nPermitRootLogin no\\n' > /etc/ssh/sshd_config.d/60-hardened.conf",
    ]
  }
}
