#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# arca run --keep-mounted: the image's squashfs stays mounted (root, loop
# path) for the next launch of the same image, is reused only for that
# very file, is held while a container uses it, expires, and `arca mounts`
# lists and drops it; after the drop no mount or loop device remains.
# Kept mounts go to a directory of this test's ($ARCA_MOUNTS_DIR). TAP.
set -u

A="$ARCA_BUILD/cmd/arca/arca"
T=$(mktemp -d /tmp/arca-keep.XXXXXX)
chmod 755 "$T"
export ARCA_MOUNTS_DIR="$T/mounts"
MARK=$((800000 + RANDOM))
BGPIDS=()
cleanup() {
	for p in "${BGPIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	"$A" mounts --drop >/dev/null 2>&1
	# the directory's own private bind, then anything a failed test left
	grep -F " $T/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../tap.sh"

for tool in mksquashfs busybox setpriv losetup; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool missing"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (kept mounts are root's)"; exit 0; }

R="$T/root"
mkdir -p "$R"/{bin,etc,proc,dev,sys,tmp,home,root}
cp "$(command -v busybox)" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
echo one >"$R/etc/version"
mksquashfs "$R" "$T/img.sqfs" -noappend -quiet -no-progress -all-root -comp lz4 >/dev/null
mk() {
	rm -f "$1"
	"$A" sif new "$1" >/dev/null && "$A" sif add "$1" "$2" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
}
mk "$T/img.sif" "$T/img.sqfs" || { echo "1..0 # SKIP cannot build the image"; exit 0; }
chmod 644 "$T/img.sif"
I="$T/img.sif"
cd "$T"

loops() { losetup -a 2>/dev/null | grep -c "$T/"; }
kept() { grep -c -F " $ARCA_MOUNTS_DIR/d" /proc/self/mountinfo; }
procs() { pgrep -f "^(/bin/)?sleep $MARK\$" | wc -l; }

out=$("$A" exec "$I" /bin/cat /etc/version 2>&1)
check "without --keep-mounted nothing is kept" "one/0/0" "$out/$(loops)/$(kept)"

out=$("$A" -v exec --keep-mounted 60 "$I" /bin/cat /etc/version 2>&1)
contains "first launch makes the kept mount" "made kept mount" "$out"
contains "... and runs the workload" "^one$" "$out"
check "one loop device, one kept mount after exit" "1/1" "$(loops)/$(kept)"
out=$("$A" -v exec --keep-mounted 60 "$I" /bin/cat /etc/version 2>&1)
contains "the next launch uses it" "using kept mount" "$out"
contains "... and sees the image" "^one$" "$out"
check "still one loop device and one kept mount" "1/1" "$(loops)/$(kept)"
out=$("$A" exec --keep-mounted 60 "$I" /bin/sh -c 'touch /bin/x 2>&1; grep " / / " /proc/self/mountinfo | grep -c "ro,nosuid,nodev"')
contains "the kept image is read-only, nosuid, nodev inside" "^1$" "$out"

out=$("$A" mounts)
contains "arca mounts lists the image by its path" "^$I\$" "$out"
contains "... as idle" "(idle)" "$out"
out=$("$A" mounts --json)
contains "arca mounts --json" "\"image\": \"$I\"" "$out"

# in use: a running container holds it against --drop
"$A" exec --keep-mounted 60 "$I" /bin/sleep $MARK &
BGPIDS+=($!)
for _ in $(seq 50); do [ "$(procs)" -ge 1 ] && break; sleep 0.1; done
contains "a running container's mount is listed in use" "(in use)" "$("$A" mounts)"
out=$("$A" mounts --drop)
check "--drop leaves a mount in use" "dropped 0 kept mounts (others are in use)/1" "$out/$(kept)"
pkill -f "^(/bin/)?sleep $MARK\$"
wait
out=$("$A" mounts --drop)
for _ in $(seq 50); do [ "$(loops)" = 0 ] && break; sleep 0.1; done
check "--drop once it is idle: no mount, no loop device" "dropped 1 kept mount/0/0" "$out/$(loops)/$(kept)"

# the same path, other content: never the old mount
"$A" exec --keep-mounted 60 "$I" /bin/true
echo two >"$R/etc/version"
mksquashfs "$R" "$T/img2.sqfs" -noappend -quiet -no-progress -all-root -comp lz4 >/dev/null
mk "$T/img2.sif" "$T/img2.sqfs"
chmod 644 "$T/img2.sif"
mv "$T/img2.sif" "$I"
out=$("$A" exec --keep-mounted 60 "$I" /bin/cat /etc/version 2>&1)
check "a replaced image gets a mount of its own" "two/2" "$out/$(kept)"
# changed in place (same inode): the ctime moves, so does the name
printf 'x' | dd of="$I" bs=1 seek=$(($(stat -c %s "$I") - 1)) conv=notrunc status=none 2>/dev/null
touch "$I"
out=$("$A" -v exec --keep-mounted 60 "$I" /bin/true 2>&1)
contains "an image changed in place is mounted afresh" "made kept mount" "$out"

# something else mounted at the entry: not trusted, replaced
"$A" mounts --drop >/dev/null
"$A" exec --keep-mounted 60 "$I" /bin/true
E=$(grep -F " $ARCA_MOUNTS_DIR/d" /proc/self/mountinfo | awk '{print $5}' | head -1)
umount "$E"
mount -t tmpfs -o size=1m tmpfs "$E" && mkdir -p "$E/etc" && echo forged >"$E/etc/version"
out=$("$A" exec --keep-mounted 60 "$I" /bin/cat /etc/version 2>&1)
check "a foreign mount at the entry is not used" "two" "$out"

# expiry: the next root launch (kept or not) drops what has expired
"$A" mounts --drop >/dev/null
"$A" exec --keep-mounted 1 "$I" /bin/true
check "kept for a second" "1" "$(kept)"
sleep 2.2
"$A" exec "$I" /bin/true
for _ in $(seq 50); do [ "$(loops)" = 0 ] && break; sleep 0.1; done
check "expired: dropped by the next launch, no loop device" "0/0" "$(kept)/$(loops)"
"$A" exec --keep-mounted 1 "$I" /bin/true
sleep 2.2
out=$("$A" mounts --expired)
check "arca mounts --expired" "dropped 1 kept mount/0" "$out/$(kept)"

# a lock file deleted by hand: the mount is still listed, and dropped
"$A" mounts --drop >/dev/null
"$A" exec --keep-mounted 60 "$I" /bin/true
rm -f "$ARCA_MOUNTS_DIR"/*.lock
contains "an entry whose lock file is gone is listed" "(unknown image)" "$("$A" mounts)"
out=$("$A" mounts --expired)
for _ in $(seq 50); do [ "$(loops)" = 0 ] && break; sleep 0.1; done
check "... as expired, and dropped: no mount, no loop device" "dropped 1 kept mount/0/0" "$out/$(kept)/$(loops)"

# a directory others may enter is not used (its mounts would show images
# that only root may read); the launch goes on
"$A" mounts --drop >/dev/null
umount -l "$ARCA_MOUNTS_DIR" 2>/dev/null
chmod 755 "$ARCA_MOUNTS_DIR"
out=$("$A" exec --keep-mounted 60 "$I" /bin/cat /etc/version 2>&1)
contains "a directory open to others is refused" "accessible by root only" "$out"
contains "... and the launch still runs" "^two$" "$out"
for _ in $(seq 50); do [ "$(loops)" = 0 ] && break; sleep 0.1; done
check "... without keeping anything" "0/0" "$(kept)/$(loops)"
chmod 700 "$ARCA_MOUNTS_DIR"

out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$A" exec --keep-mounted 60 "$I" /bin/true 2>&1)
check "--keep-mounted is root's" "2" "$?"
out=$("$A" exec --keep-mounted 999999999 "$I" /bin/true 2>&1)
check "--keep-mounted beyond a week is refused" "2" "$?"

tap_end
