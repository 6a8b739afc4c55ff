variable "release" {
  type = string
}

variable "disk_size" {
  type    = string
  default = "8G"
}

variable "packages" {
  type    = list(string)
  default = []
}
