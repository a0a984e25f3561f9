#!/usr/bin/env bash
# Builds arca and walks through what it does on a small image, using only
# embedded defaults: build an image from a busybox root filesystem, inspect
# it, sign and verify it, decide with a Rego policy, check the host, run it.
# Steps whose subsystem is not built yet are reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
arca=$PWD/build/cmd/arca/arca
work=$(mktemp -d /tmp/arca-showcase.XXXXXX)
trap 'rm -rf "$work"' EXIT

has() { "$arca" help | grep -q "^  $1 "; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ arca %s\n' "$*"; "$arca" "$@"; }

step "a root filesystem (busybox, static)"
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/.singularity.d"
cp /bin/busybox "$work/rootfs/bin/busybox"
for t in sh ls cat echo id uname true; do ln -s busybox "$work/rootfs/bin/$t"; done
echo 'arca showcase' >"$work/rootfs/etc/motd"
printf '#!/bin/sh\necho "hello from $(cat /etc/motd), running as $(id -u)"\n' >"$work/rootfs/.singularity.d/runscript"
chmod 755 "$work/rootfs/.singularity.d/runscript"
ls -l "$work/rootfs/bin" | head -3

img=$work/demo.sif
if has build; then
  step "build a SIF image"
  run build --label org.example.owner=showcase --env GREETING=hello "$img" "$work/rootfs"
else
  step "build a SIF image (arca build not built yet: squashfs from mksquashfs, SIF by arca)"
  mksquashfs "$work/rootfs" "$work/root.sqfs" -noappend -comp lz4 -quiet -no-progress
  run sif new "$img"
  run sif add --datatype 4 --parttype 2 --partfs 1 --partarch 2 "$img" "$work/root.sqfs"
fi

step "inspect it (siftool-compatible)"
run sif header "$img"
run sif list "$img"
run sif info 1 "$img"
has inspect && run inspect "$img"

if has sign && has verify; then
  step "sign and verify (DSSE, Ed25519)"
  openssl genpkey -algorithm ed25519 -out "$work/key.pem" 2>/dev/null
  openssl pkey -in "$work/key.pem" -pubout -out "$work/key.pub"
  run sign --key "$work/key.pem" "$img"
  run verify --key "$work/key.pub" "$img"
fi

if has policy; then
  step "decide with a Rego policy"
  cat >"$work/policy.rego" <<'REGO'
package arca.launch

default allow := false

allow if {
	input.image.signed
	count(deny_reasons) == 0
}

deny_reasons contains "unsigned image" if not input.image.signed
REGO
  echo '{"image": {"signed": true, "path": "demo.sif"}}' >"$work/input.json"
  run policy eval -d "$work/policy.rego" -i "$work/input.json" data.arca.launch
fi

if has attest; then
  step "what this host can prove"
  run attest status || true
fi

if has run; then
  # A site configuration of the showcase's own: enforcing mode, the
  # embedded default policy, a hash-chained decision log.
  mkdir -p "$work/policy.d"
  printf 'mode = "enforcing"\n[policy]\ndir = "%s"\ndecision_log = "%s"\n' \
    "$work/policy.d" "$work/decisions.log" >"$work/arca.toml"
  export ARCA_CONFIG="$work/arca.toml"
  step "the launch decision for this image (arca.toml: enforcing, default policy)"
  run policy launch "$img" || true
  step "run it (hardened, read-only root; decided and logged first)"
  run run "$img" || true
  run policy log verify "$work/decisions.log" || true
  if [ "$(id -u)" = 0 ] && has mounts; then
    step "keep the image mounted for the next launch (root, opt-in): it starts warm"
    run exec --keep-mounted 60 "$img" /bin/true || true
    run mounts || true
    run mounts --drop || true
  fi
fi
echo
echo "showcase finished"
