#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: reading a whole tree (every file, cat) through arca's FUSE
# squashfs server against the kernel's squashfs on a loop device, same
# image, same run. "cold" is the first pass over a fresh mount (the image
# file itself is in the page cache, so this measures decompression and
# filesystem overhead, not the disk); "warm" is a second pass in the same
# mount (the kernel page cache answers, FUSE only for lookups that expired).
# Best of 3 for each. Prints the times and FUSE/kernel ratios.
#
# usage: bench/runtime/fuse_read.sh [BUILD_DIR] [TREE] [COMPRESSOR]
# Needs root (the loop mount); the FUSE side runs in a private mount
# namespace and the loop mount in another, so nothing outlives the run.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
TREE=${2:-/usr/lib/python3.11}
COMP=${3:-lz4}
D="$BUILD/tests/runtime/squashfuse_mount"
[ -x "$D" ] || { echo "no $D: build first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root for the kernel loop mount" >&2; exit 1; }
T=$(mktemp -d /tmp/arca-bench-fuse.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/mnt"

mksquashfs "$TREE" "$T/img" -noappend -quiet -no-progress -comp "$COMP" >/dev/null
cat "$T/img" >/dev/null
files=$(find "$TREE" -type f | wc -l)
bytes=$(du -sb "$TREE" | cut -f1)

# Runs inside the mount: prints "cold_ns warm_ns".
cat >"$T/pass.sh" <<'EOF'
#!/bin/sh
pass() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }
s=$(date +%s%N); pass "$1"; m=$(date +%s%N); pass "$1"; e=$(date +%s%N)
echo $((m - s)) $((e - m))
EOF
chmod +x "$T/pass.sh"

best() { # best cold and warm over 3 runs of "$@"
	local bc=0 bw=0 c w i
	for i in 1 2 3; do
		read -r c w < <("$@")
		if [ $bc = 0 ] || [ "$c" -lt $bc ]; then bc=$c; fi
		if [ $bw = 0 ] || [ "$w" -lt $bw ]; then bw=$w; fi
	done
	echo "$bc $bw"
}

read -r kc kw < <(best unshare -m sh -c "mount -o loop,ro '$T/img' '$T/mnt' && '$T/pass.sh' '$T/mnt'; umount '$T/mnt'")
read -r fc fw < <(best "$D" "$T/img" "$T/mnt" "$T/pass.sh" "$T/mnt")

ms() { awk -v n="$1" 'BEGIN { printf "%.1f ms", n / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "tree: $TREE ($files files, $((bytes >> 20)) MiB), $COMP, best of 3"
echo "cold read: kernel squashfs $(ms "$kc"), arca FUSE $(ms "$fc"), ratio $(ratio "$fc" "$kc")"
echo "warm read: kernel squashfs $(ms "$kw"), arca FUSE $(ms "$fw"), ratio $(ratio "$fw" "$kw")"
