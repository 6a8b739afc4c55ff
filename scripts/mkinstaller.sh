#!/usr/bin/env bash
# make installer: a bootable Debian 12 installer ISO for the ISO-install
# tests (boot_command, the build's HTTP server, make e2e-packer). Debian's
# debian-installer-12-netboot-amd64 package ships the installer's kernel and
# initrd for network boot, not an ISO: this puts them on an ISOLINUX CD
# whose "boot:" prompt waits for a boot command, as Debian's own netinst
# CDs offer one behind <esc>. Output: build/installer/debian-12-netboot.iso,
# rebuilt only when this script or the installer package changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/installer
iso=$out/debian-12-netboot.iso
di=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
stamp=$out/debian-12-netboot.iso.stamp
want="$(sha256sum "$0" | cut -d' ' -f1) $(dpkg-query -W -f='${Version}' debian-installer-12-netboot-amd64)"
if [[ -f $iso && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "installer: $iso is up to date"
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/clawimg-installer.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/cd/isolinux"
cp "$di/linux" "$di/initrd.gz" "$work/cd/"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/cd/isolinux/"
# No menu and no time-out: the prompt waits for what the boot command
# types ("install" and the installer's parameters). The prompt and the
# installer's first messages also go to the serial console (the build's
# console.log).
cat > "$work/cd/isolinux/isolinux.cfg" <<'CFG'
serial 0 115200
default install
prompt 1
timeout 0
label install
  kernel /linux
  append initrd=/initrd.gz console=tty0 console=ttyS0,115200n8 ---
CFG
xorriso -as mkisofs -quiet -r -J -V DEBIAN_12_NETBOOT -o "$work/installer.iso" \
  -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
  -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin "$work/cd"
mv "$work/installer.iso" "$iso"
echo "$want" > "$stamp"
echo "installer: $iso ($(du -h "$iso" | cut -f1))"
