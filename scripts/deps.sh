#!/usr/bin/env bash
# Installs the Debian 12 packages arca builds and tests with. Idempotent: only
# calls apt-get when something is missing.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config python3 clang libclang-rt-14-dev
  libssl-dev libgpgme-dev gnupg
  libsquashfs-dev squashfs-tools-ng squashfs-tools libarchive-dev zlib1g-dev libzstd-dev liblz4-dev liblzma-dev
  libfuse3-dev fuse3 libseccomp-dev libcap-dev libcryptsetup-dev
  libtss2-dev swtpm swtpm-tools tpm2-tools
  libmicrohttpd-dev libcurl4-openssl-dev libyaml-dev libre2-dev libtomlplusplus-dev
  busybox-static bubblewrap tar gzip zstd util-linux attr
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "arca: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
