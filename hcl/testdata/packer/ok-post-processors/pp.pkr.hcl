source "qemu" "base" {
  iso_url          = "base.qcow2"
  iso_checksum     = "none"
  disk_image       = true
  ssh_username     = "debian"
  output_directory = "output"
  vm_name          = "base.qcow2"
}

build {
  sources = ["source.qemu.base"]

  post-processors {
    post-processor "checksum" {
      checksum_types = ["sha256"]
      output         = "output/{{.BuildName}}.{{.ChecksumType}}"
    }
    post-processor "manifest" {
      output     = "manifest.json"
      strip_path = true
    }
  }

  post-processor "shell-local" {
    inline = ["echo done"]
  }
}
