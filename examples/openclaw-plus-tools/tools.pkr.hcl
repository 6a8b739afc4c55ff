# A layer on an image you already have: the OpenClaw image, exported, plus
# the tools your agent needs. The base keeps its hardening and OpenClaw; this
# recipe only adds. Build it with:
#   clawimg export openclaw:latest -o openclaw.qcow2
#   clawimg build examples/openclaw-plus-tools -var base=openclaw.qcow2 -t openclaw-tools:1

variable "base" {
  type        = string
  description = "The exported image to build on (a path or file:// URL)."
}

variable "packages" {
  type        = list(string)
  default     = ["git", "ripgrep", "jq", "python3-venv"]
  description = "Debian or Ubuntu packages to add."
}

source "qemu" "layer" {
  iso_url          = var.base
  iso_checksum     = "none"
  disk_image       = true
  cpus             = 2
  memory           = 4096
  ssh_username     = "ubuntu"
  ssh_timeout      = "15m"
  shutdown_command = "sudo systemctl poweroff"
}

build {
  name    = "openclaw-plus-tools"
  sources = ["source.qemu.layer"]

  provisioner "shell" {
    environment_vars = ["DEBIAN_FRONTEND=noninteractive", "PACKAGES=${join(" ", var.packages)}"]
    execute_command  = "chmod +x {{.Path}}; sudo env {{.Vars}} {{.Path}}"
    inline = [
      "apt-get update",
      "apt-get install -y --no-install-recommends $PACKAGES",
      "apt-get clean",
    ]
  }
}
