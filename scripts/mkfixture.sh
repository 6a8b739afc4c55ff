#!/usr/bin/env bash
# make fixture: a minimal Debian 12 cloud image, built from the apt mirror,
# for the tests (Ubuntu's cloud images cannot be downloaded everywhere).
# It is a plain cloud-init image: its default user (debian) comes from
# cloud-init; nothing of clawimg is baked in. Output: build/fixture/base.qcow2,
# rebuilt only when this script changes (its hash is stored beside it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fixture
stamp=$out/base.qcow2.sha256
hash=$(sha256sum "$0" | cut -d' ' -f1)
if [[ -f $out/base.qcow2 && -f $stamp && $(cat "$stamp") == "$hash" ]]; then
  echo "fixture: build/fixture/base.qcow2 is up to date"
  exit 0
fi
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}
size=4G
work=$(mktemp -d "${TMPDIR:-/tmp}/clawimg-fixture.XXXXXX")
cleanup() {
  mountpoint -q "$work/mnt" && umount "$work/mnt"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out" "$work/mnt"

echo "fixture: debootstrap bookworm from $mirror (about 2 minutes)"
debootstrap --variant=minbase \
  --include=systemd-sysv,openssh-server,cloud-init,linux-image-cloud-amd64,iproute2,ifupdown,isc-dhcp-client,sudo,python3-cffi-backend,dbus,dbus-user-session,libpam-systemd,cloud-guest-utils,qemu-guest-agent \
  bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
root=$work/rootfs
echo 'LABEL=root / ext4 defaults 0 1' >"$root/etc/fstab"
printf 'source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n' >"$root/etc/network/interfaces"
cat >"$root/etc/cloud/cloud.cfg.d/90-fixture.cfg" <<'CFG'
datasource_list: [ NoCloud, None ]
# minbase has no update-locale: the locale module would fail
locale: false
# without it sudo cannot resolve the hostname
manage_etc_hosts: true
CFG
echo debian >"$root/etc/hostname"
: >"$root/etc/machine-id"
# dbus made one during debootstrap; systemd would copy it into every instance
rm -f "$root/var/lib/dbus/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
mkdir -p "$root/boot/extlinux"
kernel=$(cd "$root/boot" && ls vmlinuz-* | head -n1)
initrd=$(cd "$root/boot" && ls initrd.img-* | head -n1)
cat >"$root/boot/extlinux/extlinux.conf" <<CONF
DEFAULT linux
TIMEOUT 0
LABEL linux
  KERNEL /boot/$kernel
  INITRD /boot/$initrd
  APPEND root=LABEL=root console=ttyS0 rw
CONF

echo "fixture: disk image"
raw=$work/disk.raw
truncate -s "$size" "$raw"
echo 'start=2048, type=83, bootable' | sfdisk -q "$raw"
mkfs.ext4 -q -F -L root -E offset=1048576 -d "$root" "$raw" $(( $(stat -c %s "$raw") / 1024 - 1024 ))k
mount -o loop,offset=1048576 "$raw" "$work/mnt"
extlinux --install "$work/mnt/boot/extlinux" >/dev/null 2>&1
umount "$work/mnt"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$raw" "$out/base.qcow2.tmp"
mv "$out/base.qcow2.tmp" "$out/base.qcow2"
echo "$hash" >"$stamp"
echo "fixture: build/fixture/base.qcow2 ($(du -h "$out/base.qcow2" | cut -f1))"
