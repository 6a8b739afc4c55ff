#!/bin/sh
# Firewall, brute-force protection, sshd hardening, automatic security updates.
set -eu

ufw --force reset >/dev/null
ufw default deny incoming
ufw default allow outgoing
ufw allow 22/tcp
ufw --force enable
systemctl enable ufw

# Debian/Ubuntu minimal images may log sshd only to the journal.
cat >/etc/fail2ban/jail.local <<'JAIL'
[DEFAULT]
backend = systemd

[sshd]
enabled = true
JAIL
systemctl enable fail2ban

# 00- sorts before the cloud image's own drop-ins (sshd takes the first value).
install -d -m 0755 /etc/ssh/sshd_config.d
cat >/etc/ssh/sshd_config.d/00-clawimg-hardening.conf <<'SSHD'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowTcpForwarding yes
SSHD

cat >/etc/apt/apt.conf.d/20auto-upgrades <<'APT'
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
APT

if [ "${SWAP_SIZE:-0}" != "0" ] && [ ! -f /swapfile ]; then
  fallocate -l "$SWAP_SIZE" /swapfile
  chmod 600 /swapfile
  mkswap /swapfile >/dev/null
  echo '/swapfile none swap sw 0 0' >>/etc/fstab
fi
