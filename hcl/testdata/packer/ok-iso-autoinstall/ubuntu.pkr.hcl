source "qemu" "ubuntu" {
  iso_url      = "https://releases.ubuntu.com/24.04/ubuntu-24.04.1-live-server-amd64.iso"
  iso_checksum = "sha256:e240e4b801f7bb68c20d1356b60968ad0c33a41d00d828e74ceb3364a0317be9"
  disk_size    = "25G"
  memory       = 4096
  cpus         = 2
  cd_files     = ["cd/meta-data", "cd/user-data"]
  cd_label     = "cidata"
  boot_wait    = "10s"
  boot_command = [
    "<wait>e<wait><down><down><down><end>",
    " autoinstall ds=nocloud;",
    "<f10>"
  ]
  ssh_username           = "ubuntu"
  ssh_password           = "ubuntu"
  ssh_timeout            = "45m"
  ssh_handshake_attempts = 200
  shutdown_command       = "echo 'ubuntu' | sudo -S shutdown -P now"
}

build {
  sources = ["source.qemu.ubuntu"]
}
