#!/usr/bin/env bash
# make fixture (second half): the same Debian 12 system as base.qcow2, on a
# disk that boots through UEFI only, for the efi_boot tests: an EFI System
# Partition holding a standalone GRUB (BOOTX64.EFI, the firmware's fallback
# path, so no boot entry is needed), then base.qcow2's root file system,
# copied as it is. Output: build/fixture/base-efi.qcow2, rebuilt when this
# script or base.qcow2 changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fixture
src=$out/base.qcow2
stamp=$out/base-efi.qcow2.sha256
hash=$( (sha256sum "$0"; cat "$out/base.qcow2.sha256") | sha256sum | cut -d' ' -f1)
if [[ -f $out/base-efi.qcow2 && -f $stamp && $(cat "$stamp") == "$hash" ]]; then
  echo "fixture: build/fixture/base-efi.qcow2 is up to date"
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/clawimg-fixture-efi.XXXXXX")
trap 'rm -rf "$work"' EXIT
esp_mib=63

# GRUB with its configuration inside: find the root file system by its
# label, boot the kernel and initrd its /vmlinuz and /initrd.img name.
cat >"$work/grub.cfg" <<'CFG'
set timeout=0
search --no-floppy --label root --set=root
linux /vmlinuz root=LABEL=root console=ttyS0 rw
initrd /initrd.img
boot
CFG
grub-mkstandalone -O x86_64-efi -o "$work/BOOTX64.EFI" \
  --modules="part_msdos part_gpt ext2 search_label linux normal" \
  --locales= --fonts= --themes= "boot/grub/grub.cfg=$work/grub.cfg"
mkfs.vfat -C -n ESP "$work/esp.img" $((esp_mib * 1024)) >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# base.qcow2's root file system starts at 1 MiB and fills the disk.
qemu-img convert -f qcow2 -O raw "$src" "$work/base.raw"
size=$(stat -c %s "$work/base.raw")
raw=$work/disk.raw
truncate -s $((size + esp_mib * 1048576)) "$raw"
sfdisk -q "$raw" <<PARTS
label: dos
start=2048, size=$((esp_mib * 2048)), type=ef
start=$((2048 + esp_mib * 2048)), type=83
PARTS
dd if="$work/esp.img" of="$raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/base.raw" of="$raw" bs=1M skip=1 seek=$((1 + esp_mib)) conv=notrunc,sparse status=none
qemu-img convert -f raw -O qcow2 "$raw" "$out/base-efi.qcow2.tmp"
mv "$out/base-efi.qcow2.tmp" "$out/base-efi.qcow2"
echo "$hash" >"$stamp"
echo "fixture: build/fixture/base-efi.qcow2 ($(du -h "$out/base-efi.qcow2" | cut -f1))"
