# The built-in clawimg recipe: a hardened Ubuntu cloud image with OpenClaw
# installed for an unprivileged user. `clawimg init DIR` writes it out to
# customize; `clawimg build` with no RECIPE builds it.

variable "arch" {
  type        = string
  default     = "amd64"
  description = "Guest architecture: amd64 or arm64."
  validation {
    condition     = contains(["amd64", "arm64"], var.arch)
    error_message = "The arch must be \"amd64\" or \"arm64\"."
  }
}

variable "base_url" {
  type        = string
  default     = ""
  description = "Base cloud image (https://, file:// or a path). Empty: Ubuntu 24.04 LTS for var.arch."
}

variable "base_checksum" {
  type        = string
  default     = ""
  description = "sha256:<hex>, file:<SHA256SUMS url> or none. Empty: Ubuntu's SHA256SUMS."
}

variable "base_user" {
  type        = string
  default     = "ubuntu"
  description = "The base image's cloud-init default user, used to provision."
}

variable "node_source" {
  type        = string
  default     = "nodesource"
  description = "Where Node.js comes from: nodesource (apt) or npm (the npm registry's node package)."
  validation {
    condition     = contains(["nodesource", "npm"], var.node_source)
    error_message = "The node_source must be \"nodesource\" or \"npm\"."
  }
}

variable "node_major" {
  type        = number
  default     = 24
  description = "Node.js major version; OpenClaw needs 24 or newer."
  validation {
    condition     = var.node_major >= 24
    error_message = "OpenClaw needs Node.js 24 or newer."
  }
}

variable "openclaw_version" {
  type        = string
  default     = "2026.9.6"
  description = "The openclaw npm package version, pinned."
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+", var.openclaw_version))
    error_message = "The openclaw_version must be an exact version such as 2026.9.6, not a tag."
  }
}

variable "openclaw_plugins" {
  type        = string
  default     = "anthropic browser canvas cua-computer device-pair file-transfer geolocation github linux-node memory-core ollama openai talk-voice xai"
  description = "The bundled OpenClaw plugins the image keeps (space-separated ids), or all. The default is the set OpenClaw loads in this image; the others (channels, providers the egress allowlist does not reach) are removed, because the gateway re-scans every bundled plugin at each configuration change, a warm launch's token among them."
  validation {
    condition     = can(regex("^(all|[a-z0-9-]+( [a-z0-9-]+)*)$", var.openclaw_plugins))
    error_message = "The openclaw_plugins must be all or plugin ids separated by single spaces, such as \"anthropic memory-core\"."
  }
}

variable "swap_size" {
  type        = string
  default     = "2G"
  description = "Size of the swap file (fallocate syntax); 0 for none."
}

variable "disk_size" {
  type        = string
  default     = "16G"
  description = "Virtual size of the image's disk."
}

locals {
  ubuntu_release = "https://cloud-images.ubuntu.com/releases/24.04/release"
  base_url       = var.base_url != "" ? var.base_url : "${local.ubuntu_release}/ubuntu-24.04-server-cloudimg-${var.arch}.img"
  base_checksum  = var.base_checksum != "" ? var.base_checksum : "file:${local.ubuntu_release}/SHA256SUMS"
  qemu_binary    = var.arch == "arm64" ? "qemu-system-aarch64" : "qemu-system-x86_64"
  provision_env = [
    "BASE_USER=${var.base_user}",
    "NODE_SOURCE=${var.node_source}",
    "NODE_MAJOR=${var.node_major}",
    "OPENCLAW_VERSION=${var.openclaw_version}",
    "OPENCLAW_PLUGINS=${var.openclaw_plugins}",
    "SWAP_SIZE=${var.swap_size}",
    "DEBIAN_FRONTEND=noninteractive",
  ]
}

source "qemu" "openclaw" {
  iso_url          = local.base_url
  iso_checksum     = local.base_checksum
  disk_image       = true
  disk_size        = var.disk_size
  qemu_binary      = local.qemu_binary
  cpus             = 2
  memory           = 4096
  accelerator      = "auto"
  ssh_username     = var.base_user
  ssh_timeout      = "15m"
  shutdown_command = "sudo systemctl poweroff"
}

build {
  name    = "openclaw"
  sources = ["source.qemu.openclaw"]

  provisioner "shell" {
    environment_vars = local.provision_env
    execute_command  = "chmod +x {{.Path}}; sudo env {{.Vars}} {{.Path}}"
    scripts = [
      "scripts/10-base.sh",
      "scripts/20-harden.sh",
      "scripts/30-node.sh",
      "scripts/40-openclaw.sh",
      "scripts/45-plugins.sh",
      "scripts/50-gateway.sh",
    ]
    timeout = "90m"
  }
}
