#!/usr/bin/env bash
# Builds the gallery image "Stratus Tiny Linux" into OUTDIR from Debian packages only:
#   vmlinuz        the kernel of the linux-image-*-amd64 package that linux-image-amd64 depends on
#   vmlinux        the same kernel, decompressed: QEMU boots it directly (PVH entry), which spares the guest
#                  about 5 s of xz decompression per boot under TCG; the manifest names it as the kernel
#   initrd.img     busybox-static, an /init and the few kernel modules it needs (virtio, ext4, ACPI button)
#   disk.qcow2     a blank base disk; VMs clone it copy-on-write and /init formats the clone on first boot
#   manifest.json  name, version, format version, kernel command line and the sha256 of each file
#
# Usage: scripts/build-tiny-image.sh OUTDIR
# Host tools (installed with apt-get when missing): cpio, kmod (depmod), qemu-utils (qemu-img), gzip, xz-utils.
# Idempotent: downloaded .debs are cached in OUTDIR/.cache, and an image built from the same packages by the
# same script is left as it is. disk.qcow2 is never rewritten once it exists: VM disks use it as their backing file.
set -euo pipefail
shopt -s inherit_errexit

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
cache="$out/.cache"
mkdir -p "$cache"

image_name="Stratus Tiny Linux"
format_version=1
base_disk_size=8G
# console=ttyS0 last: /dev/console (and so the kernel's panic messages) goes to the serial log. no_timer_check: under
# TCG on a loaded host the kernel's IO-APIC timer check can miss its ticks and panic ("IO-APIC + timer doesn't work");
# two VMs booting at once on a busy 2-core CI machine did.
cmdline="no_timer_check console=tty1 console=ttyS0"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Host tools first. The package lists are fetched only when they are missing (a fresh machine).
missing=()
command -v cpio >/dev/null || missing+=(cpio)
command -v depmod >/dev/null || [ -x /usr/sbin/depmod ] || [ -x /sbin/depmod ] || missing+=(kmod)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v gzip >/dev/null || missing+=(gzip)
command -v xz >/dev/null || missing+=(xz-utils)
depends=$(apt-cache depends linux-image-amd64 2>/dev/null || true)
if ! grep -q 'Depends: linux-image-[0-9]' <<<"$depends"; then
  as_root apt-get update -qq
  depends=$(apt-cache depends linux-image-amd64)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing host tools: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PATH="$PATH:/usr/sbin:/sbin"

kernel_package=$(awk '/Depends: linux-image-[0-9]/ { print $2; exit }' <<<"$depends")
[ -n "$kernel_package" ] || { echo "error: cannot tell which kernel linux-image-amd64 depends on" >&2; exit 1; }
# One apt-cache call for both candidates: each call costs seconds when apt keeps no binary cache.
candidates=$(apt-cache policy "$kernel_package" busybox-static | awk '/^[^ ]/ { p = $1; sub(":$", "", p) } /Candidate:/ { print p, $2 }')

# The .debs: downloaded once per version (apt-get download names them by version).
fetch() {
  local package=$1 version file
  version=$(awk -v p="$package" '$1 == p { print $2 }' <<<"$candidates")
  file=$(ls "$cache"/"${package}"_*.deb 2>/dev/null | grep -F "_$(echo "$version" | sed 's/:/%3a/')_" | head -n1 || true)
  if [ -z "$file" ]; then
    (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$package" >/dev/null)
    file=$(ls "$cache"/"${package}"_*.deb | head -n1)
  fi
  echo "$file"
}
kernel_deb=$(fetch "$kernel_package")
busybox_deb=$(fetch busybox-static)
# The cache keeps only what this build uses (an older kernel or busybox is dropped).
for deb in "$cache"/*.deb; do
  [ "$deb" = "$kernel_deb" ] || [ "$deb" = "$busybox_deb" ] || rm -f "$deb"
done
kernel_version=$(dpkg-deb -f "$kernel_deb" Version)
busybox_version=$(dpkg-deb -f "$busybox_deb" Version)
image_version="1.0.0+linux.$(echo "$kernel_version" | tr -c 'A-Za-z0-9.\n' '.')"

# The same script and the same packages make the same image: nothing to do.
build_key=$( { sha256sum "$0" | cut -d' ' -f1; echo "$kernel_package $kernel_version busybox-static $busybox_version"; } | sha256sum | cut -d' ' -f1)
if [ -f "$out/manifest.json" ] && grep -q "\"buildKey\": \"$build_key\"" "$out/manifest.json" \
   && [ -f "$out/vmlinuz" ] && [ -f "$out/vmlinux" ] && [ -f "$out/initrd.img" ] && [ -f "$out/disk.qcow2" ]; then
  echo "$image_name $image_version is up to date in $out"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "Building $image_name $image_version ($kernel_package $kernel_version, busybox-static $busybox_version)"
dpkg-deb -x "$kernel_deb" "$work/kernel"
dpkg-deb -x "$busybox_deb" "$work/busybox"
kver=$(ls "$work/kernel/lib/modules")
# The package has no modules.dep (the postinst makes it): generate it, then take what it lists.
depmod -b "$work/kernel" "$kver"

root="$work/root"
mkdir -p "$root"/{bin,dev,etc,proc,sys,run,tmp,home,root,lib/modules,etc/acpi/PWRF}
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || [ "$applet" = wget ] || ln -s busybox "$root/bin/$applet"
done
ln -s bin "$root/sbin"

# Debian 12's busybox is built without wget's -T (FEATURE_WGET_TIMEOUT), yet its option parser still accepts -T
# and the applet then writes through a pointer it never set: `wget -T 5 URL` ends with "Segmentation fault".
# This wrapper takes -T SEC, -TSEC, --timeout=SEC (alone or after -c, -q, -S) out and runs wget under `timeout`.
# busybox's sh runs its own applet for a bare `wget` whatever PATH says, so /etc/profile points shells here too.
cat > "$root/bin/wget" <<'EOF_WGET'
#!/bin/sh
seconds=
count=$#
while [ "$count" -gt 0 ]; do
  arg=$1; shift; count=$((count - 1))
  case "$arg" in
    -[OoPUY]|--header|--post-data|--post-file|--user-agent)
      # Its value is passed on as it is, even one that starts with '-' and holds a T.
      set -- "$@" "$arg"
      if [ "$count" -gt 0 ]; then value=$1; shift; count=$((count - 1)); set -- "$@" "$value"; fi
      continue ;;
    --timeout=*) seconds=${arg#--timeout=}; continue ;;
    -*T*)
      flags=${arg%%T*}; flags=${flags#-}
      case "$flags" in *[!cqS]*) ;; *)
        seconds=${arg#*T}
        if [ -z "$seconds" ]; then seconds=$1; shift; count=$((count - 1)); fi
        [ -z "$flags" ] || set -- "$@" "-$flags"
        continue ;;
      esac ;;
  esac
  set -- "$@" "$arg"
done
case "$seconds" in
  "") exec busybox wget "$@" ;;
  *[!0-9]*) echo "wget: invalid timeout '$seconds'" >&2; exit 1 ;;
  *) exec timeout "$seconds" busybox wget "$@" ;;
esac
EOF_WGET
chmod 755 "$root/bin/wget"

# Names: static glibc resolves through its built-in "files" and "dns" sources, which read these.
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
printf 'hosts: files dns\nnetworks: files\nservices: files\nprotocols: files\n' > "$root/etc/nsswitch.conf"
printf 'ftp\t\t21/tcp\nhttp\t\t80/tcp\t\twww\nhttps\t\t443/tcp\n' > "$root/etc/services"

# The modules /init loads, with what modules.dep says each needs, dependencies first.
# crc32c has no modules.dep edge (ext4 asks for it by name at run time), so it is named here.
# bochs: the DRM driver of QEMU's standard VGA; with its framebuffer, tty1 (the VNC display) shows the shell.
wanted="virtio_pci virtio_blk virtio_net ext4 crc32c_generic button evdev bochs"
moddir="$work/kernel/lib/modules/$kver"
declare -A seen=()
order=()
add_module() {  # $1: path relative to $moddir, as in modules.dep
  local path=$1 dep
  [ -n "${seen[$path]:-}" ] && return
  seen[$path]=1
  for dep in $(awk -v m="$path:" '$1 == m { for (i = 2; i <= NF; i++) print $i }' "$moddir/modules.dep"); do
    add_module "$dep"
  done
  order+=("$path")
}
for name in $wanted; do
  path=$(awk -v n="/$name.ko:" 'index($1, n) == length($1) - length(n) + 1 { sub(":", "", $1); print $1; exit }' "$moddir/modules.dep")
  [ -n "$path" ] || { echo "error: module $name is not in $kernel_package" >&2; exit 1; }
  add_module "$path"
done
: > "$root/etc/modules"
for path in "${order[@]}"; do
  install -D -m 644 "$moddir/$path" "$root/lib/modules/$path"
  echo "$path" >> "$root/etc/modules"
done

# busybox init: a shell on the serial console and one on the VGA console, both usable at once.
cat > "$root/etc/inittab" <<'EOF'
ttyS0::respawn:-/bin/sh
tty1::respawn:-/bin/sh
::respawn:/bin/acpid -f -l /dev/null
::ctrlaltdel:/bin/reboot
::shutdown:/bin/sync
::shutdown:/bin/umount -a -r
EOF

# Readiness is announced by the serial console's first shell, so a host that sees the line can type at once.
cat > "$root/etc/profile" <<'EOF'
export PATH=/bin HOME=/root PS1='\h:\w\$ '
# A function wins over busybox's built-in applet, which crashes on -T (see /bin/wget).
wget() { /bin/wget "$@"; }
if [ "$(tty)" = /dev/ttyS0 ] && [ ! -e /run/stratus-ready ]; then
  : > /run/stratus-ready
  echo STRATUS-READY
fi
EOF

# udhcpc's script (busybox sets $ip, $mask as a prefix length, $router, $dns, $domain, $search, $mtu).
cat > "$root/etc/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
  deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    [ "$1" = bound ] && ip addr flush dev "$interface"
    ip addr replace "$ip/${mask:-24}" dev "$interface"
    ip route del default 2>/dev/null
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    : > /etc/resolv.conf
    if [ -n "$search" ]; then echo "search $search" >> /etc/resolv.conf
    elif [ -n "$domain" ]; then echo "search $domain" >> /etc/resolv.conf; fi
    for server in $dns; do echo "nameserver $server" >> /etc/resolv.conf; done
    echo "stratus: $interface $ip/$mask via $router"
    ;;
esac
exit 0
EOF
chmod 755 "$root/etc/udhcpc.script"

# The host asks for a clean power-off with an ACPI power button press (QMP system_powerdown).
printf '#!/bin/sh\npoweroff\n' > "$root/etc/acpi/PWRF/00000080"
chmod 755 "$root/etc/acpi/PWRF/00000080"

cat > "$root/init" <<'EOF'
#!/bin/sh
# Stratus Tiny Linux: prepares the machine, mounts the persistent disk as /home, then hands over to busybox init.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

while read -r module; do
  insmod "/lib/modules/$module" 2>/dev/null || echo "stratus: cannot load $module"
done < /etc/modules
# From here on the consoles belong to the shells: kernel chatter would garble them.
dmesg -n 1

for arg in $(cat /proc/cmdline); do
  case "$arg" in stratus.hostname=*) hostname "${arg#*=}" ;; esac
done
[ "$(hostname)" != "(none)" ] || hostname stratus
# The machine's own name resolves, as on any Linux (getaddrinfo of the hostname, prompts, tools).
printf '127.0.1.1\t%s\n' "$(hostname)" >> /etc/hosts

# A NIC on a tenant's network connection (stratus.net=dhcp): its address, router, DNS and MTU come from the
# connection's DHCP server (udhcpc stays to renew the lease). Else the hosted network (QEMU user-mode NAT), whose
# addresses are fixed, so no DHCP wait.
net=hosted
for arg in $(cat /proc/cmdline); do
  case "$arg" in stratus.net=dhcp) net=dhcp ;; esac
done
ip link set lo up
if ip link set eth0 up 2>/dev/null; then
  if [ "$net" = dhcp ]; then
    udhcpc -i eth0 -s /etc/udhcpc.script -t 30 -T 2 -b || echo "stratus: no DHCP lease on eth0"
  else
    ip addr add 10.0.2.15/24 dev eth0
    ip route add default via 10.0.2.2
    echo "nameserver 10.0.2.3" > /etc/resolv.conf
  fi
fi

# The persistent disk. Formatted only when its first MiB is all zeros (a blank clone of the base disk):
# a filesystem or a partition table always writes there, so a disk with one is never reformatted.
disk=/dev/vda
for _ in $(seq 50); do [ -b "$disk" ] && break; sleep 0.1; done
if [ ! -b "$disk" ]; then
  echo "stratus: no persistent disk ($disk)"
elif cmp -s -n 1048576 "$disk" /dev/zero; then
  echo "stratus: formatting the blank persistent disk"
  # One inode per 256 KiB: writing the inode tables is most of a first boot under TCG (8 MiB for 8 GiB).
  mke2fs -q -L home -m 0 -i 262144 "$disk"
fi
if ! mount -t ext4 "$disk" /home; then
  # No STRATUS-READY without /home: the host reports the boot failed, with this line in the log tail.
  echo "stratus: cannot mount $disk as /home"
  exec sh
fi

exec init
EOF
chmod 755 "$root/init"

# A reproducible archive: same inputs, same bytes (sorted names, fixed times, no gzip timestamp).
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --reproducible --quiet) | gzip -9 -n > "$work/initrd.img"

cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
# The bzImage carries the kernel as one xz stream after its decompressor stub; the ELF inside has a PVH note.
# (No pipes that end early here: under pipefail a reader that stops early fails the writer.)
xz_offset=$(LC_ALL=C grep -obUa -m1 $'\xfd7zXZ' "$work/vmlinuz" | cut -d: -f1 | head -n1)
tail -c +$((xz_offset + 1)) "$work/vmlinuz" > "$work/vmlinux.xz"
xz -dc --single-stream "$work/vmlinux.xz" > "$work/vmlinux"
[ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || { echo "error: no ELF kernel inside vmlinuz" >&2; exit 1; }
mv -f "$work/vmlinuz" "$out/vmlinuz"
mv -f "$work/vmlinux" "$out/vmlinux"
mv -f "$work/initrd.img" "$out/initrd.img"
[ -f "$out/disk.qcow2" ] || qemu-img create -q -f qcow2 "$out/disk.qcow2" "$base_disk_size"

sha() { sha256sum "$out/$1" | cut -d' ' -f1; }
size() { stat -c %s "$out/$1"; }
cat > "$out/manifest.json.tmp" <<EOF
{
  "formatVersion": $format_version,
  "name": "$image_name",
  "version": "$image_version",
  "buildKey": "$build_key",
  "kernel": "vmlinux",
  "compressedKernel": "vmlinuz",
  "initrd": "initrd.img",
  "disk": "disk.qcow2",
  "cmdline": "$cmdline",
  "readyMarker": "STRATUS-READY",
  "packages": {
    "$kernel_package": "$kernel_version",
    "busybox-static": "$busybox_version"
  },
  "files": {
    "vmlinuz": { "sha256": "$(sha vmlinuz)", "size": $(size vmlinuz) },
    "vmlinux": { "sha256": "$(sha vmlinux)", "size": $(size vmlinux) },
    "initrd.img": { "sha256": "$(sha initrd.img)", "size": $(size initrd.img) },
    "disk.qcow2": { "sha256": "$(sha disk.qcow2)", "size": $(size disk.qcow2) }
  }
}
EOF
mv -f "$out/manifest.json.tmp" "$out/manifest.json"
echo "Built $image_name $image_version in $out"
