#!/usr/bin/env bash
# Builds a small disk that boots as a custom image does, from its disk with the firmware's (SeaBIOS) help, into
# OUTDIR/disk.qcow2: the tests' stand-in for a Debian cloud image, a few MiB instead of hundreds.
#   - an MBR partition table with one active FAT partition, syslinux's MBR boot code and SYSLINUX on it;
#   - the kernel KERNEL (a bzImage, e.g. the tiny image's vmlinuz) and an initrd of busybox-static whose /init
#     starts a getty on the serial console (ttyS0) and on the display (tty1): a login prompt, as a distribution
#     shows, and never the STRATUS-READY marker of the gallery image.
#
# Usage: scripts/build-bootable-disk.sh KERNEL OUTDIR
# Host tools: syslinux, syslinux-common, mtools, dosfstools, fdisk (sfdisk), cpio, qemu-utils (scripts/install-deps.sh
# test). Needs no root: the file system is built in a file, never mounted. busybox-static's .deb is cached in
# OUTDIR/.cache.
set -euo pipefail
shopt -s inherit_errexit

[ $# -eq 2 ] || { echo "usage: $0 KERNEL OUTDIR" >&2; exit 2; }
kernel=$1
[ -f "$kernel" ] || { echo "error: no kernel at $kernel" >&2; exit 1; }
mkdir -p "$2/.cache"
out=$(cd "$2" && pwd)
PATH="$PATH:/usr/sbin:/sbin"
for tool in syslinux mcopy mkfs.fat sfdisk cpio qemu-img; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (scripts/install-deps.sh test installs it)" >&2; exit 1; }
done
mbr=/usr/lib/syslinux/mbr/mbr.bin
[ -f "$mbr" ] || { echo "error: $mbr is missing (package syslinux-common)" >&2; exit 1; }

busybox_deb=$(ls "$out"/.cache/busybox-static_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$busybox_deb" ]; then
  (cd "$out/.cache" && apt-get download -q -o APT::Sandbox::User=root busybox-static >/dev/null)
  busybox_deb=$(ls "$out"/.cache/busybox-static_*.deb | head -n1)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The initrd: busybox and an /init that prints what a distribution prints, a host name and "login:".
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,etc}
dpkg-deb --fsys-tarfile "$busybox_deb" | tar -x -C "$work" ./bin/busybox
cp "$work/bin/busybox" "$root/bin/busybox"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname customdisk
echo "customdisk: booted from its disk by SYSLINUX"
# root without a password, and a getty per console started again when it ends, as init systems do.
printf 'root::0:0:root:/:/bin/sh\n' >/etc/passwd
respawn_serial() { while true; do setsid getty 115200 ttyS0 vt100; sleep 1; done; }
respawn_display() { while true; do setsid getty 38400 tty1 linux; sleep 1; done; }
respawn_serial &
respawn_display &
while true; do sleep 3600; done
EOF
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$work/initrd.gz"

# The boot partition: FAT, from sector 2048 (1 MiB) to the end of a 32 MiB disk, built as a file of its own.
cat >"$work/syslinux.cfg" <<'EOF'
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  APPEND initrd=initrd.gz console=tty1 console=ttyS0 quiet
EOF
part="$work/part.img"
rm -f "$part"
mkfs.fat -F 16 -n CUSTOMDISK -C "$part" $(( (32 - 1) * 1024 )) >/dev/null
syslinux --install "$part"
mcopy -i "$part" "$kernel" ::vmlinuz
mcopy -i "$part" "$work/initrd.gz" ::initrd.gz
mcopy -i "$part" "$work/syslinux.cfg" ::syslinux.cfg

disk="$work/disk.raw"
truncate -s 32M "$disk"
echo 'start=2048, type=6, bootable' | sfdisk -q "$disk"
dd if="$mbr" of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$part" of="$disk" bs=1M seek=1 conv=notrunc status=none
qemu-img convert -q -f raw -O qcow2 "$disk" "$work/disk.qcow2"
mv "$work/disk.qcow2" "$out/disk.qcow2"
echo "A bootable disk (SYSLINUX, a getty on ttyS0 and tty1) is in $out/disk.qcow2"
