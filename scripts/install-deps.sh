#!/usr/bin/env bash
# Installs the Debian packages that `make up` or `make test` needs and that are missing.
set -euo pipefail
case "${1:-}" in
  # SQLite is embedded; libldap for LDAP sync; QEMU runs the Cloud PCs; cpio, kmod and xz-utils build the tiny image.
  # (The host agent also makes the system user stratus-vm that QEMU runs as, when it is missing.)
  # nftables: the guest firewall of the host agent (table inet stratus); util-linux gives setpriv and setsid.
  up)   packages=(libldap-2.5-0 qemu-system-x86 qemu-utils cpio kmod xz-utils nftables util-linux) ;;
  # The real PostgreSQL of the storage and messaging tests; slapd (OpenLDAP) and libldap, which LDAP sync loads, for the LDAP tests.
  # QEMU, qemu-img and the tools of scripts/build-tiny-image.sh (cpio, kmod for depmod, xz-utils) for the host agent's VM tests.
  # Debian's chromium for the portal's Playwright tests (never a downloaded browser).
  # etcd, Patroni, iproute2 (network namespaces), curl and openssl (the lab's CA) for the fault-injection harness's region (deploy/local-region).
  # python3: the HTTP server of the host agent's "outside world" network namespace (guest network tests).
  # syslinux, syslinux-common, mtools, dosfstools and fdisk build the custom-image tests' bootable disk (scripts/build-bootable-disk.sh).
  test) packages=(postgresql slapd libldap-2.5-0 qemu-system-x86 qemu-utils cpio kmod xz-utils chromium etcd-server patroni iproute2 curl openssl python3 nftables util-linux
                  syslinux syslinux-common mtools dosfstools fdisk) ;;
  *)    echo "usage: $0 up|test" >&2; exit 2 ;;
esac

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK 10 is not installed (dotnet is not on PATH); install it first: https://dot.net" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "Installing ${missing[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed ${missing[*]}."
