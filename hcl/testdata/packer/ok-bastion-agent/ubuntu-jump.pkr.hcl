# A cloud image built from a CI runner that reaches build hosts only
# through the team's jump host, with the engineer's SSH agent (the
# provisioner clones a private repository with it).
variable "jump_host" {
  type    = string
  default = "jump.corp.example"
}

variable "image_url" {
  type    = string
  default = "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img"
}

source "qemu" "ubuntu" {
  iso_url                = var.image_url
  iso_checksum           = "sha256:5d5d2ac1d2c5b6f0c1f0f9a1a8e5f3b9a7c6d2e4f0a1b3c5d7e9f1a3b5c7d9e1"
  disk_image             = true
  disk_size              = "12G"
  format                 = "qcow2"
  headless               = true
  ssh_username           = "ubuntu"
  ssh_timeout            = "20m"
  ssh_agent_auth         = true
  ssh_pty                = true
  ssh_bastion_host       = var.jump_host
  ssh_bastion_port       = 2222
  ssh_bastion_username   = "ci"
  ssh_bastion_agent_auth = true
  shutdown_command       = "sudo shutdown -P now"
}

build {
  sources = ["source.qemu.ubuntu"]

  provisioner "shell" {
    inline = [
      "ssh-add -l",
      "git clone git@git.corp.example:platform/agent-config.git /tmp/agent-config",
      "sudo /tmp/agent-config/install.sh",
    ]
  }
}
