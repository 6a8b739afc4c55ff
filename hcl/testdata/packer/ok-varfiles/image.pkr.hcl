source "qemu" "img" {
  iso_url      = "https://cloud.debian.org/images/cloud/${var.release}/latest/debian-12-genericcloud-amd64.qcow2"
  iso_checksum = "none"
  disk_image   = true
  disk_size    = var.disk_size
  ssh_username = "debian"
}

build {
  sources = ["source.qemu.img"]

  provisioner "shell" {
    inline = ["sudo apt-get install -y ${join(" ", var.packages)}"]
  }
}
