#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: start-up of a container, `arca exec img.sif /bin/true` (lz4
# and zstd images of a busybox-static root) against `bwrap --unshare-all`
# on the same root unpacked, as root (arca: kernel loop mount) and as an
# unprivileged user (arca: user namespace + FUSE root; uid 65534 through
# setpriv). The runs are interleaved (arca lz4, arca zstd, bwrap, ...) so
# machine load hits all alike; median and mean of N runs each, and the
# arca/bwrap ratios of the medians. `arca version` is timed alongside: the
# cost of starting the arca binary itself (its shared libraries), which the
# last ratio takes out.
#
# As root, `arca exec --keep-mounted` runs alongside: the image's squashfs
# stays mounted between launches (an opt-in), so every launch but the
# first finds its pages warm, as bwrap finds the unpacked root's.
#
# With BASE_BUILD_DIR, that build's arca (say, the previous commit) runs
# interleaved with the others on the lz4 image, and the launch path alone
# (start-up taken out) is compared between the two.
#
# usage: bench/runtime/exec.sh [BUILD_DIR] [N] [BASE_BUILD_DIR]   (needs root)
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
N=${2:-30}
A="$BUILD/cmd/arca/arca"
[ -x "$A" ] || { echo "no $A: build first" >&2; exit 1; }
B=
if [ -n "${3:-}" ]; then
	B="$(cd "$3" && pwd)/cmd/arca/arca"
	[ -x "$B" ] || { echo "no $B: build the baseline first" >&2; exit 1; }
fi
[ "$(id -u)" = 0 ] || { echo "needs root (it measures both paths)" >&2; exit 1; }
for t in mksquashfs busybox bwrap setpriv; do
	command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }
done

T=$(mktemp -d /tmp/arca-bench-exec.XXXXXX)
export ARCA_MOUNTS_DIR="$T/mounts"
trap '"$A" mounts --drop >/dev/null 2>&1; umount -l "$ARCA_MOUNTS_DIR" 2>/dev/null; rm -rf "$T"' EXIT
chmod 755 "$T"
R="$T/root"
mkdir -p "$R"/{bin,etc,proc,dev,sys,tmp,root,home}
cp "$(command -v busybox)" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
for c in lz4 zstd; do
	mksquashfs "$R" "$T/$c.sqfs" -noappend -quiet -no-progress -all-root -comp $c >/dev/null
	"$A" sif new "$T/$c.sif" >/dev/null
	"$A" sif add "$T/$c.sif" "$T/$c.sqfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
	chmod 644 "$T/$c.sif"
done
chmod -R a+rX "$R"
cd /

# one run of "$@", in microseconds, appended to file $1
timed() {
	local out=$1
	shift
	local s=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	local e=$EPOCHREALTIME
	echo $((${e/./} - ${s/./})) >>"$out"
}

# stats FILE -> "median mean" in ms
stats() {
	sort -n "$1" | awk '{v[NR]=$1; s+=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.2f %.2f", m/1000, s/NR/1000}'
}

bench() {
	local who=$1
	shift
	local pre=("$@")
	rm -f "$T"/t.*
	# warm the host's caches (binaries, image files); each arca run still
	# starts from a cold squashfs: a new loop device or FUSE mount
	for _ in 1 2; do
		"${pre[@]}" "$A" exec "$T/lz4.sif" /bin/true
		"${pre[@]}" bwrap --unshare-all --ro-bind "$R" / --proc /proc --dev /dev /bin/true
	done
	for _ in $(seq "$N"); do
		timed "$T/t.lz4" "${pre[@]}" "$A" exec "$T/lz4.sif" /bin/true
		timed "$T/t.zstd" "${pre[@]}" "$A" exec "$T/zstd.sif" /bin/true
		timed "$T/t.bwrap" "${pre[@]}" bwrap --unshare-all --ro-bind "$R" / --proc /proc --dev /dev /bin/true
		timed "$T/t.start" "${pre[@]}" "$A" version
		if [ "$who" = root ]; then
			timed "$T/t.klz4" "$A" exec --keep-mounted 600 "$T/lz4.sif" /bin/true
			timed "$T/t.kzstd" "$A" exec --keep-mounted 600 "$T/zstd.sif" /bin/true
		fi
		if [ -n "$B" ]; then
			timed "$T/t.base" "${pre[@]}" "$B" exec "$T/lz4.sif" /bin/true
			timed "$T/t.bstart" "${pre[@]}" "$B" version
		fi
	done
	read -r l4m l4a <<<"$(stats "$T/t.lz4")"
	read -r zsm zsa <<<"$(stats "$T/t.zstd")"
	read -r bwm bwa <<<"$(stats "$T/t.bwrap")"
	read -r stm sta <<<"$(stats "$T/t.start")"
	printf "%-13s %-22s median %7.2f ms  mean %7.2f ms\n" "$who" "arca exec (lz4)" "$l4m" "$l4a"
	printf "%-13s %-22s median %7.2f ms  mean %7.2f ms\n" "$who" "arca exec (zstd)" "$zsm" "$zsa"
	printf "%-13s %-22s median %7.2f ms  mean %7.2f ms\n" "$who" "bwrap --unshare-all" "$bwm" "$bwa"
	printf "%-13s %-22s median %7.2f ms  mean %7.2f ms\n" "$who" "arca version (start-up)" "$stm" "$sta"
	awk -v a="$l4m" -v z="$zsm" -v b="$bwm" -v w="$who" \
		-v s="$stm" 'BEGIN {printf "%-13s ratio arca/bwrap: lz4 %.2fx  zstd %.2fx  (launch alone, without process start-up: lz4 %.2fx)\n", w, a/b, z/b, (a-s)/b}'
	if [ "$who" = root ]; then
		read -r kl4m kl4a <<<"$(stats "$T/t.klz4")"
		read -r kzsm kzsa <<<"$(stats "$T/t.kzstd")"
		printf "%-13s %-22s median %7.2f ms  mean %7.2f ms\n" "$who" "exec --keep-mounted lz4" "$kl4m" "$kl4a"
		printf "%-13s %-22s median %7.2f ms  mean %7.2f ms\n" "$who" "exec --keep-mounted zstd" "$kzsm" "$kzsa"
		awk -v a="$kl4m" -v z="$kzsm" -v b="$bwm" -v w="$who" \
			'BEGIN {printf "%-13s ratio arca --keep-mounted/bwrap: lz4 %.2fx  zstd %.2fx\n", w, a/b, z/b}'
	fi
	if [ -n "$B" ]; then
		read -r bam baa <<<"$(stats "$T/t.base")"
		read -r bsm bsa <<<"$(stats "$T/t.bstart")"
		printf "%-13s %-22s median %7.2f ms  mean %7.2f ms\n" "$who" "baseline exec (lz4)" "$bam" "$baa"
		printf "%-13s %-22s median %7.2f ms  mean %7.2f ms\n" "$who" "baseline version" "$bsm" "$bsa"
		awk -v a="$l4m" -v s="$stm" -v b="$bam" -v t="$bsm" -v w="$who" \
			'BEGIN {printf "%-13s launch alone (exec - version, lz4): %.2f ms, baseline %.2f ms: %.2fx\n", w, a-s, b-t, (a-s)/(b-t)}'
	fi
}

echo "# $N runs each, interleaved; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
bench root
bench unprivileged setpriv --reuid 65534 --regid 65534 --clear-groups
