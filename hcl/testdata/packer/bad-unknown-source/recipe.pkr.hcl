variable "user" {
  type    = string
  default = "debian"
}
variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
locals {
  greeting = "hello ${var.user}"
}
source "qemu" "base" {
  iso_url      = "base.qcow2"
  iso_checksum = "none"
  disk_image   = true
  disk_size    = "8G"
  cpus         = 2
  memory       = 1024
  accelerator  = "tcg"
  ssh_username = var.user
  ssh_timeout  = "10m"
  headless     = true
  shutdown_command = "sudo poweroff"
}
build {
  name    = "demo"
  sources = ["source.qemu.bsae"]
  provisioner "shell" {
    environment_vars = ["GREETING=${local.greeting}", "SECRET=${var.secret}"]
    inline           = ["echo $GREETING"]
  }
  provisioner "file" {
    source      = "files/motd"
    destination = "/tmp/hi"
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
