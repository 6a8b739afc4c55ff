# The builder's test recipe: every kind of provisioner, on the Debian fixture.
variable "base" {
  type    = string
  default = "../../../build/fixture/base.qcow2"
}

# Debian's ansible-core and what it needs beside the fixture (make fixture).
variable "ansible_debs" {
  type    = string
  default = "../../../build/fixture/ansible-debs"
}

variable "greeting" {
  type    = string
  default = "hello from clawimg"
}

variable "out_dir" {
  type    = string
  default = "."
}

# Packer's output: where a copy of the disk is left ("" for none).
variable "output_dir" {
  type    = string
  default = ""
}

# efi: boot through UEFI (the base must be a UEFI disk: base-efi.qcow2).
variable "efi" {
  type    = bool
  default = false
}

variable "vm_name" {
  type    = string
  default = ""
}

variable "token" {
  type      = string
  sensitive = true
  default   = "tok-SECRET-4242"
}

# A bastion the build's SSH goes through ("" for none): an sshd the builder
# tests run on the host's loopback, and the key it lets in.
variable "bastion" {
  type    = string
  default = ""
}

variable "bastion_port" {
  type    = number
  default = null
}

variable "bastion_user" {
  type    = string
  default = null
}

variable "bastion_key" {
  type    = string
  default = null
}

source "qemu" "fixture" {
  iso_url          = var.base
  iso_checksum     = "none"
  disk_image       = true
  disk_size        = "6G"
  cpus             = 2
  memory           = 2048
  ssh_username     = "debian"
  ssh_timeout      = "5m"
  shutdown_timeout = "2m"
  # Packer's: once SSH answers, wait and connect again.
  pause_before_connecting = "2s"
  output_directory        = var.output_dir
  vm_name                 = var.vm_name
  disk_compression        = true
  # output_directory's disk holds what differs from iso_url's.
  use_backing_file = true
  # The build VM's machine, as Packer recipes tune it.
  sockets    = 1
  cores      = 2
  disk_cache = "unsafe"
  # UEFI through the host's OVMF, as Packer's efi_boot.
  efi_boot = var.efi
  # Packer's additional disks (left as VM_NAME-1 in output_directory) and
  # floppy (the cloud kernel has no floppy driver: QEMU attaching it is
  # what this build shows; internal/fat's tests read one back).
  disk_additional_size = ["64M"]
  floppy_files         = ["files/motd"]
  floppy_content       = { "answers/preseed.cfg" = "d-i passwd/root-login boolean false\n" }
  floppy_label         = "clawtest"
  # An emulated TPM 2.0 (swtpm), as Packer's vtpm.
  vtpm = true
  # SSH forwarded from a port of this range; a QMP monitor for the recipe
  # (the shell-local provisioner asks it which port that is).
  host_port_min   = 2900
  host_port_max   = 2999
  qmp_enable      = true
  qmp_socket_path = "${var.out_dir}/qmp.sock"
  # More arguments for qemu-img: the output's conversions take these.
  qemu_img_args {
    convert = ["-o", "cluster_size=131072"]
  }
  # Packer's SSH communicator: through a bastion, commands on a terminal.
  ssh_bastion_host             = var.bastion
  ssh_bastion_port             = var.bastion_port
  ssh_bastion_username         = var.bastion_user
  ssh_bastion_private_key_file = var.bastion_key
  ssh_pty                      = true
}

build {
  name    = "testimg"
  sources = ["source.qemu.fixture"]

  provisioner "shell" {
    name             = "greet"
    environment_vars = ["GREETING=${var.greeting}", "TOKEN=${var.token}"]
    inline = [
      "echo \"$GREETING\" | sudo tee /etc/clawimg-greeting",
      "echo \"the token is $TOKEN\"",
      "test \"$TOKEN\" = tok-SECRET-4242",
      "if ${var.efi}; then test -d /sys/firmware/efi || { echo 'efi_boot: the VM did not boot through UEFI' >&2; exit 1; }; fi",
      "test \"$(lsblk -bdno SIZE /dev/vdb)\" = 67108864",
      "test \"$(cat /sys/class/tpm/tpm0/tpm_version_major)\" = 2 || { echo 'vtpm: the VM has no TPM 2.0' >&2; exit 1; }",
      "echo clawimg-disk-1 | sudo dd of=/dev/vdb conv=fsync status=none",
      "tty >/dev/null || { echo 'ssh_pty: the command has no terminal' >&2; exit 1; }",
    ]
  }

  provisioner "shell" {
    script          = "setup.sh"
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
  }

  provisioner "file" {
    source      = "files/motd"
    destination = "/tmp/motd"
  }

  provisioner "ansible" {
    playbook_file    = "playbook.yml"
    groups           = ["clawimg"]
    ansible_env_vars = ["ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3"]
  }

  # Several files at once (Packer's sources), into a directory.
  provisioner "file" {
    sources     = ["files/motd", "files/sources.txt"]
    destination = "/tmp/"
  }

  provisioner "shell" {
    inline = ["sudo mv /tmp/motd /etc/motd", "sudo chown root:root /etc/motd", "sudo mv /tmp/sources.txt /etc/clawimg-sources.txt"]
  }

  # Packer's ansible-local: Ansible in the VM (unpacked from Debian's
  # packages, no network needed), the playbook run there on the VM itself.
  provisioner "file" {
    source      = var.ansible_debs
    destination = "/tmp/"
  }

  provisioner "shell" {
    inline = ["for d in /tmp/ansible-debs/*.deb; do sudo dpkg-deb -x \"$d\" /opt/ansible; done"]
  }

  provisioner "ansible-local" {
    command                 = "PYTHONPATH=/opt/ansible/usr/lib/python3/dist-packages python3 /opt/ansible/usr/bin/ansible-playbook"
    playbook_file           = "local/site.yml"
    role_paths              = ["local/roles/mark"]
    group_vars              = "local/group_vars"
    inventory_groups        = ["clawimg_local"]
    extra_arguments         = ["--extra-vars", "extra_word=extra"]
    clean_staging_directory = true
  }

  # On the host, while the VM is provisioned (Packer's shell-local).
  provisioner "shell-local" {
    inline = [
      "echo \"$PACKER_BUILD_NAME provisioned\" > ${var.out_dir}/local-provisioner.txt",
      "python3 qmp_usernet.py ${var.out_dir}/qmp.sock > ${var.out_dir}/usernet.txt",
    ]
  }

  post-processor "manifest" {
    output = "${var.out_dir}/manifest.json"
  }

  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "${var.out_dir}/image.checksum"
  }

  # A chain, with Packer's output templates.
  post-processors {
    post-processor "checksum" {
      checksum_types = ["sha256", "md5"]
      output         = "${var.out_dir}/{{.BuildName}}.{{.ChecksumType}}"
    }
    post-processor "compress" {
      output            = "${var.out_dir}/{{.BuildName}}_{{.BuilderType}}.tar.gz"
      compression_level = 1
    }
  }

  post-processor "shell-local" {
    environment_vars = ["OUT=${var.out_dir}/local.txt"]
    inline           = ["echo \"$CLAWIMG_IMAGE $CLAWIMG_DIGEST\" > \"$OUT\""]
  }
}
