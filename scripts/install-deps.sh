#!/usr/bin/env bash
# Installs the Debian packages that `make up` or `make test` needs and that are missing.
set -euo pipefail
case "${1:-}" in
  # SQLite is embedded; libldap for LDAP sync; QEMU runs the Cloud PCs; cpio, kmod and xz-utils build the tiny image.
  # (The host agent also makes the system user stratus-vm that QEMU runs as, when it is missing.)
  # nftables: the guest firewall of the host agent (table inet stratus); util-linux gives setpriv and setsid.
  # dnsmasq-base: the DHCP server of each tenant network connection on a host (issue 20).
  up)   packages=(libldap-2.5-0 qemu-system-x86 qemu-utils cpio kmod xz-utils nftables util-linux dnsmasq-base) ;;
  # The real PostgreSQL of the storage and messaging tests; slapd (OpenLDAP) and libldap, which LDAP sync loads, for the LDAP tests.
  # QEMU, qemu-img and the tools of scripts/build-tiny-image.sh (cpio, kmod for depmod, xz-utils) for the host agent's VM tests.
  # Debian's chromium for the portal's Playwright tests (never a downloaded browser).
  # etcd, Patroni, iproute2 (network namespaces), curl and openssl (the lab's CA) for the fault-injection harness's region (deploy/local-region).
  # python3: the HTTP server of the host agent's "outside world" network namespace (guest network tests).
  # syslinux, syslinux-common, mtools, dosfstools and fdisk build the custom-image tests' bootable disk (scripts/build-bootable-disk.sh).
  # nodejs (and npm, below) run s3rver, the S3-compatible server of the copy store tests (Debian has no S3 server short of Ceph).
  # prometheus (with promtool) scrapes a real `stratus up` and checks and tests the rules of deploy/monitoring.
  test) packages=(postgresql slapd libldap-2.5-0 qemu-system-x86 qemu-utils cpio kmod xz-utils chromium etcd-server patroni iproute2 curl openssl python3 nftables util-linux
                  syslinux syslinux-common mtools dosfstools fdisk nodejs dnsmasq-base prometheus) ;;
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
# npm by command, not by package: NodeSource's nodejs carries its own npm and conflicts with Debian's.
if [ "$1" = test ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

# The copy store tests' S3 server, installed once where tests/Stratus.HostAgent.Tests/Support/S3Server.cs looks for it
# (the fixture installs it itself when this has not run).
install_s3rver() {
  [ "$1" = test ] || return 0
  local root
  root="$(cd "$(dirname "$0")/.." && pwd)"
  [ -f "$root/artifacts/s3rver/node_modules/s3rver/bin/s3rver.js" ] && return 0
  echo "Installing s3rver 3.7.1 (npm) into artifacts/s3rver..."
  npm install --prefix "$root/artifacts/s3rver" --no-audit --no-fund s3rver@3.7.1 >/dev/null
}

if [ ${#missing[@]} -eq 0 ]; then
  install_s3rver "$1"
  exit 0
fi

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
install_s3rver "$1"
