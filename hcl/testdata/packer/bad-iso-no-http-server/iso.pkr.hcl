# The boot command sends the installer to the build's HTTP server, but
# nothing is served (no http_directory, no http_content).
source "qemu" "debian" {
  iso_url      = "https://cdimage.debian.org/debian-cd/12.8.0/amd64/iso-cd/debian-12.8.0-amd64-netinst.iso"
  iso_checksum = "sha256:04396d12b0f377958a070c38a923c227832fa3b3e18ddc013936ecf492e9fbb3"
  boot_command = ["<esc><wait>auto url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg<enter>"]
  ssh_username = "root"
  ssh_password = "packer"
}

build {
  sources = ["source.qemu.debian"]
}
