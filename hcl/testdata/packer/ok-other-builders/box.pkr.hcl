# One recipe, two hypervisors: clawimg builds the qemu source and says it
# skips the VirtualBox one.
source "virtualbox-iso" "debian" {
  guest_os_type    = "Debian_64"
  iso_url          = "https://cdimage.debian.org/debian-cd/12.8.0/amd64/iso-cd/debian-12.8.0-amd64-netinst.iso"
  iso_checksum     = "sha256:04396d12b0f377958a070c38a923c227832fa3b3e18ddc013936ecf492e9fbb3"
  ssh_username     = "vagrant"
  ssh_password     = "vagrant"
  shutdown_command = "echo 'vagrant' | sudo -S shutdown -P now"
}

source "qemu" "debian" {
  iso_url          = "https://cdimage.debian.org/debian-cd/12.8.0/amd64/iso-cd/debian-12.8.0-amd64-netinst.iso"
  iso_checksum     = "sha256:04396d12b0f377958a070c38a923c227832fa3b3e18ddc013936ecf492e9fbb3"
  ssh_username     = "vagrant"
  ssh_password     = "vagrant"
  shutdown_command = "echo 'vagrant' | sudo -S shutdown -P now"
}

build {
  sources = ["source.virtualbox-iso.debian", "source.qemu.debian"]

  provisioner "shell" {
    inline = ["echo built by ${source.type}"]
  }
}
