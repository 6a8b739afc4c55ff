variable "iso_url" {
  type    = string
  default = "https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/debian-12.8.0-amd64-netinst.iso"
}

variable "ssh_password" {
  type      = string
  default   = "vagrant"
  sensitive = true
}

source "qemu" "debian12" {
  iso_url          = var.iso_url
  iso_checksum     = "sha256:04396d12b0f377958a070c38a923c227832fa3b3e18ddc013936ecf492e9fbb3"
  disk_size        = 20480
  format           = "qcow2"
  accelerator      = "kvm"
  http_directory   = "http"
  boot_wait        = "5s"
  boot_command = [
    "<esc><wait>",
    "install <wait>",
    "preseed/url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg <wait>",
    "debian-installer=en_US.UTF-8 auto locale=en_US.UTF-8 kbd-chooser/method=us <wait>",
    "netcfg/get_hostname={{ .Name }} netcfg/get_domain=vagrantup.com <wait>",
    "fb=false debconf/frontend=noninteractive <wait>",
    "<enter><wait>"
  ]
  ssh_username     = "vagrant"
  ssh_password     = var.ssh_password
  ssh_timeout      = "60m"
  host_port_min    = 2222
  host_port_max    = 4444
  qmp_enable       = true
  shutdown_command = "echo '${var.ssh_password}' | sudo -S shutdown -P now"
  vm_name          = "debian-12-amd64"
}

build {
  sources = ["source.qemu.debian12"]

  provisioner "shell" {
    execute_command = "echo '${var.ssh_password}' | {{ .Vars }} sudo -S -E bash '{{ .Path }}'"
    scripts         = ["scripts/cleanup.sh"]
  }
}
