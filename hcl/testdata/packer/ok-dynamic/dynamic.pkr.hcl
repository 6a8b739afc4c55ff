locals {
  steps = {
    update = ["sudo apt-get update"]
    tools  = ["sudo apt-get install -y git", "git --version"]
  }
}

source "qemu" "base" {
  iso_url      = "base.qcow2"
  iso_checksum = "none"
  disk_image   = true
  ssh_username = "debian"
}

build {
  sources = ["source.qemu.base"]

  dynamic "provisioner" {
    labels   = ["shell"]
    for_each = local.steps
    content {
      inline = provisioner.value
    }
  }
}
