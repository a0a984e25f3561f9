#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A SIGKILLed arca leaves its cgroup behind (the container dies with it, the
# empty directory stays); the next launch with limits removes it. Prints TAP.
# Needs root, mksquashfs and busybox; every process it starts is killed by pid.
set -u
A=${ARCA_BUILD:-build}/cmd/arca/arca
if [ "$(id -u)" != 0 ] || ! command -v mksquashfs >/dev/null || ! command -v busybox >/dev/null; then
	echo "1..0 # SKIP needs root, mksquashfs and busybox"
	exit 0
fi
T=$(mktemp -d /tmp/arca-cgroup.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/r/bin" "$T/r/proc" "$T/r/dev" "$T/r/tmp"
cp "$(command -v busybox)" "$T/r/bin/busybox"
for a in sh sleep true; do ln -s busybox "$T/r/bin/$a"; done
mksquashfs "$T/r" "$T/img.sqfs" -noappend -quiet -no-progress -all-root >/dev/null
"$A" sif new "$T/img.sif" >/dev/null
"$A" sif add "$T/img.sif" "$T/img.sqfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null

# arca-<pid> directories below /sys/fs/cgroup for the init pid @1
dirs() { find /sys/fs/cgroup -maxdepth 6 -type d -name "arca-$1" 2>/dev/null; }

echo "1..3"
"$A" exec --pids-limit 64 "$T/img.sif" /bin/sleep 30 >/dev/null 2>&1 &
pid=$!
init=
for _ in $(seq 100); do
	init=$(pgrep -P "$pid" | head -1)
	[ -n "$init" ] && [ -n "$(dirs "$init")" ] && break
	sleep 0.05
done
if [ -n "$init" ] && [ -n "$(dirs "$init")" ]; then echo "ok 1 - the launch has its cgroup"; else
	echo "not ok 1 - the launch has its cgroup"
fi
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
# the init dies with arca (PR_SET_PDEATHSIG), the directory stays
for _ in $(seq 100); do kill -0 "$init" 2>/dev/null || break; sleep 0.05; done
left=$(dirs "$init")
if [ -n "$left" ]; then echo "ok 2 - SIGKILL leaves $left"; else echo "ok 2 - # SKIP nothing left behind"; fi
# leftovers younger than 2 s may be a launch still setting up: wait that out
sleep 2.2
"$A" exec --pids-limit 64 "$T/img.sif" /bin/true
if [ -z "$(dirs "$init")" ]; then echo "ok 3 - the next launch removed it"; else
	echo "not ok 3 - the next launch removed it"
	rmdir $(dirs "$init") 2>/dev/null
fi
