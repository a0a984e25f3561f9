#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Build time of `arca build` against mksquashfs on the same ~200 MiB tree,
# same compressor, block size and thread count, runs interleaved, best of
# N. Prints seconds and the ratio arca/mksquashfs (goal: <= 1.2).
#
# usage: bench/build/build.sh [ARCA_BINARY]   (env: ROUNDS=3 COMPS="lz4 zstd gzip" THREADS=2)
set -euo pipefail

arca=${1:-${ARCA_BUILD:-build}/cmd/arca/arca}
rounds=${ROUNDS:-3}
comps=${COMPS:-"lz4 zstd gzip"}
threads=${THREADS:-2}
bs=131072
command -v mksquashfs >/dev/null || { echo "mksquashfs not installed" >&2; exit 1; }
[ -x "$arca" ] || { echo "no arca binary at $arca" >&2; exit 1; }

work=$(mktemp -d /tmp/arca-bench-build.XXXXXX)
trap 'rm -rf -- "$work"' EXIT

# A tree with the shapes a root filesystem has: compressible text, random
# (incompressible) binaries, thousands of small files, a few large ones.
python3 - "$work/tree" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(42)
words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(2, 9))) for _ in range(5000)]
def text(n):
    out, size = [], 0
    while size < n:
        line = ' '.join(rng.choice(words) for _ in range(rng.randint(4, 14))) + '\n'
        out.append(line); size += len(line)
    return ''.join(out)[:n].encode()
def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f: f.write(data)
chunk = text(1 << 20)
for i in range(60):                       # 60 MiB of text in 1 MiB files
    put(f'{root}/usr/share/doc/pkg{i % 12}/file{i}.txt', chunk[i * 997:] + chunk[:i * 997])
for i in range(6):                        # 60 MiB of random binaries
    put(f'{root}/usr/lib/blob{i}.so', rng.randbytes(10 << 20))
for i in range(20000):                    # 20000 small files, ~40 MiB
    n = rng.randint(200, 3800)
    data = rng.randbytes(n) if i % 3 == 0 else text(n)
    put(f'{root}/usr/include/d{i % 200}/f{i}.h', data)
big = text(8 << 20) + rng.randbytes(12 << 20)
put(f'{root}/opt/big1.img', big)          # two 20 MiB mixed files
put(f'{root}/opt/big2.img', big[::-1])
PY
du -sm "$work/tree" | awk '{print "tree: " $1 " MiB"}'
find "$work/tree" -type f | wc -l | awk '{print "files: " $1}'

now() { date +%s.%N; }
declare -A best_arca best_mk all_arca all_mk
for c in $comps; do best_arca[$c]=999999; best_mk[$c]=999999; all_arca[$c]=""; all_mk[$c]=""; done
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? a : b }'; }
# The tree is read back into the page cache before every timed run, so
# neither tool pays for disk reads the other one had paid for it.
warm() { find "$work/tree" -type f -print0 | xargs -0 cat >/dev/null; }
run_arca() {
	rm -f "$work/out.sif"
	warm
	local t0 t1
	t0=$(now)
	"$arca" -q build -F --compress "$1" --block-size "$bs" --threads "$threads" "$work/out.sif" "$work/tree"
	t1=$(now)
	a=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
run_mk() {
	rm -f "$work/out.sqfs"
	warm
	local t0 t1
	t0=$(now)
	mksquashfs "$work/tree" "$work/out.sqfs" -comp "$1" -b "$bs" -noappend -processors "$threads" \
		-quiet -no-progress >/dev/null
	t1=$(now)
	m=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
for r in $(seq 1 "$rounds"); do
	for c in $comps; do
		# Alternate who goes first: a busy machine drifts within a round.
		if [ $((r % 2)) = 1 ]; then run_arca "$c"; run_mk "$c"; else run_mk "$c"; run_arca "$c"; fi
		echo "round $r $c: arca ${a}s ($(stat -c %s "$work/out.sif") B) mksquashfs ${m}s ($(stat -c %s "$work/out.sqfs") B)"
		best_arca[$c]=$(min "${best_arca[$c]}" "$a")
		best_mk[$c]=$(min "${best_mk[$c]}" "$m")
		all_arca[$c]+="$a "
		all_mk[$c]+="$m "
	done
done
median() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
# Best of N is the figure asked for; the median is printed beside it
# because on a shared machine one lucky quiet run can decide the best.
printf '%-6s %10s %12s %8s %12s\n' comp arca_s mksquashfs_s ratio median_ratio
for c in $comps; do
	awk -v c="$c" -v a="${best_arca[$c]}" -v m="${best_mk[$c]}" \
		-v ma="$(median ${all_arca[$c]})" -v mm="$(median ${all_mk[$c]})" \
		'BEGIN { printf "%-6s %10.3f %12.3f %8.2f %12.2f\n", c, a, m, a / m, ma / mm }'
done
