#!/bin/sh
# Bring the base up to date and install what the image needs, nothing more.
set -eu
apt-get update
apt-get -y -o Dpkg::Options::=--force-confold full-upgrade
apt-get install -y --no-install-recommends \
  ufw fail2ban python3-systemd unattended-upgrades ca-certificates curl \
  qemu-guest-agent
