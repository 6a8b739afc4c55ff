variable "user" {
  type        = string
  default     = "debian"
  description = "Provisioning user"
}

variable "packages" {
  type    = list(string)
  default = ["ufw", "fail2ban"]
}
