#!/usr/bin/env bash
# Installs the Debian packages the harness needs on the host (idempotent, Debian 12).
set -euo pipefail
PKGS=(
  qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libvirt-dev pkg-config
  vagrant vagrant-libvirt debootstrap e2fsprogs openssh-client
  openssh-server  # only its sshd binary: tests start a private one on 127.0.0.1 (xdist over SSH)
  zip unzip dpkg-dev chromium python3-venv python3-dev gcc
  # Windows parts built and run on the host: launcher, tar.exe (zlib), MSI, NSIS exe, wine stand-in
  gcc-mingw-w64-x86-64 libz-mingw-w64-dev wixl nsis wine wine64
)
# Node may come from another source (nodesource ships npm inside nodejs): only ask apt when absent.
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing host packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
