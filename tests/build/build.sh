#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# arca build end to end. One source tree (empty, multi-block, sparse and
# compressible files, deep directories, symlinks, hard links, xattrs, odd
# modes, a fifo and, as root, device nodes) is built from a directory and
# from tar, tar.gz and tar.zst with every compressor, then read back three
# ways: squashfs-tools' unsquashfs, libsquashfs' rdsquashfs and, as root,
# the kernel (loop device at the partition's offset). Contents, modes,
# owners, link counts, symlink targets, device numbers and xattrs must
# match. Hostile archives must be refused with a reason. Prints TAP.
# Every mount, loop device and temporary file is removed at exit, by the
# name or device this script created.
set -u

A="$ARCA_BUILD/cmd/arca/arca"
T=$(mktemp -d /tmp/arca-build.XXXXXX)
MNTS=()
LOOPS=()
cleanup() {
	for m in "${MNTS[@]}"; do umount "$m" 2>/dev/null; done
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
	rm -rf -- "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../tap.sh"
# check NAME CMD...: passes when CMD succeeds; its output is shown otherwise.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else
		notok "$name"
		echo "$out" | head -40 | sed 's/^/# /'
	fi
}
# refused NAME PATTERN CMD...: CMD must fail and say PATTERN.
refused() {
	local name=$1 pat=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		notok "$name (accepted)"
	elif echo "$out" | grep -q -- "$pat"; then
		ok "$name"
	else
		notok "$name (wrong reason)"
		echo "$out" | sed 's/^/# /'
	fi
}

root=false
[ "$(id -u)" = 0 ] && root=true
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- the tree
S="$T/src"
mkdir -p "$S/dir/sub/deep" "$S/sticky" "$S/empty-dir"
echo hello >"$S/hello.txt"
: >"$S/empty"
head -c 3000000 /dev/urandom >"$S/random.bin"          # 23 blocks of 128 KiB
yes 'compressible line of text' | head -c 1000000 >"$S/text.txt"
truncate -s 8M "$S/sparse"                              # holes around real data
printf 'in the middle' | dd of="$S/sparse" bs=1 seek=4194304 conv=notrunc status=none
echo deep >"$S/dir/sub/deep/file"
echo spaces >"$S/name with spaces"
echo utf >"$S/ünïcødé"
ln -s hello.txt "$S/rel-link"
ln -s /etc/passwd "$S/abs-link"
ln -s does/not/exist "$S/dangling"
echo linked >"$S/hard1"
ln "$S/hard1" "$S/hard2"
ln "$S/hard1" "$S/dir/hard3"
mkfifo "$S/fifo"
chmod 4755 "$S/hello.txt"
chmod 1777 "$S/sticky"
chmod 0600 "$S/empty"
chmod 0700 "$S/dir/sub"
xattrs=false
if have setfattr && setfattr -n user.test -v 42 "$S/hello.txt" 2>/dev/null; then
	xattrs=true
	setfattr -n user.dir -v "on a dir" "$S/dir"
	setfattr -n user.bin -v 0x00ff00 "$S/random.bin"
fi
if $root; then
	mknod "$S/null" c 1 3
	mknod "$S/loop9" b 7 9
	chown 1234:5678 "$S/text.txt"
	chown -h 42:43 "$S/rel-link"
fi
tar --xattrs --xattrs-include='*' -cf "$T/src.tar" -C "$S" . 2>/dev/null
gzip -k "$T/src.tar"
zstd -q "$T/src.tar" -o "$T/src.tar.zst"

# ------------------------------------------------------------ comparison
# cmp_tree SRC DST: every entry of SRC exists in DST with the same type,
# mode, owner, link count (non-directories), mtime, size and contents,
# symlink target, device number and user.* xattrs; DST holds nothing else
# than SRC plus the generated /.singularity.d, /environment, /singularity.
cmp_tree() {
	python3 - "$1" "$2" <<'PY'
import os, stat, sys
src, dst = sys.argv[1], sys.argv[2]
gen = {'.singularity.d', 'environment', 'singularity'}
bad = []
def walk(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            out[os.path.relpath(p, root)] = p
    return out
a, b = walk(src), walk(dst)
for rel in sorted(set(b) - set(a)):
    if rel.split('/')[0] not in gen:
        bad.append(f'extra entry {rel}')
def xattrs(p):
    try:
        return {k: os.getxattr(p, k, follow_symlinks=False) for k in os.listxattr(p, follow_symlinks=False)
                if k.startswith('user.')}
    except OSError:
        return {}
for rel, p in sorted(a.items()):
    if rel not in b:
        bad.append(f'missing {rel}'); continue
    q = b[rel]
    s, t = os.lstat(p), os.lstat(q)
    for f in ('st_mode', 'st_uid', 'st_gid', 'st_mtime'):
        x, y = getattr(s, f), getattr(t, f)
        if f == 'st_mtime':
            x, y = int(x), int(y)
        if x != y:
            bad.append(f'{rel}: {f} {x:o} != {y:o}' if f == 'st_mode' else f'{rel}: {f} {x} != {y}')
    if not stat.S_ISDIR(s.st_mode) and s.st_nlink != t.st_nlink and not os.environ.get('NO_NLINK'):
        bad.append(f'{rel}: nlink {s.st_nlink} != {t.st_nlink}')
    if stat.S_ISREG(s.st_mode):
        with open(p, 'rb') as f1, open(q, 'rb') as f2:
            if f1.read() != f2.read():
                bad.append(f'{rel}: contents differ')
    elif stat.S_ISLNK(s.st_mode) and os.readlink(p) != os.readlink(q):
        bad.append(f'{rel}: symlink target differs')
    elif (stat.S_ISCHR(s.st_mode) or stat.S_ISBLK(s.st_mode)) and s.st_rdev != t.st_rdev:
        bad.append(f'{rel}: rdev {s.st_rdev} != {t.st_rdev}')
    if xattrs(p) != xattrs(q):
        bad.append(f'{rel}: xattrs {xattrs(p)} != {xattrs(q)}')
for line in bad:
    print(line)
sys.exit(1 if bad else 0)
PY
}

# part IMG: "OFFSET SIZE" of the primary partition, from arca's own JSON.
part() {
	"$A" sif list --json "$1" | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    if d.get("parttype") == "*System" and d.get("fstype") == "Squashfs":
        print(d["offset"], d["size"])'
}

# extract IMG OUT: the partition as a file of its own.
extract() {
	local off size
	read -r off size < <(part "$1")
	dd if="$1" of="$2" bs=4096 skip=$((off / 4096)) count=$((size / 4096)) status=none
}

readback() { # IMG: unsquashfs and rdsquashfs both reproduce the tree
	local img=$1 p="$T/p.sqfs"
	rm -rf "$T/u" "$T/r" "$p"
	extract "$img" "$p" || return 1
	unsquashfs -no-progress -d "$T/u" "$p" >/dev/null || return 1
	cmp_tree "$S" "$T/u" || return 1
	mkdir "$T/r"
	# rdsquashfs unpacks hard links as copies: its link counts are not compared.
	rdsquashfs -q -u / -p "$T/r" -C -O -X -T "$p" >/dev/null || return 1
	NO_NLINK=1 cmp_tree "$S" "$T/r"
}

kernel() { # IMG: loop-mounted at the partition's offset, read-only
	local img=$1 off size dev mnt="$T/mnt" rc=0
	read -r off size < <(part "$img")
	dev=$(losetup --find --show --read-only --offset "$off" --sizelimit "$size" "$img") || return 1
	LOOPS+=("$dev")
	mkdir -p "$mnt"
	if mount -t squashfs -o ro "$dev" "$mnt"; then
		MNTS+=("$mnt")
		cmp_tree "$S" "$mnt" || rc=1
		umount "$mnt" && MNTS=("${MNTS[@]/$mnt/}")
	else
		rc=1
	fi
	losetup -d "$dev" && LOOPS=("${LOOPS[@]/$dev/}")
	return $rc
}

can_mount=false
if $root && have losetup && grep -qw squashfs /proc/filesystems 2>/dev/null; then
	can_mount=true
elif $root && have losetup && modprobe squashfs 2>/dev/null; then
	can_mount=true
fi

# ---------------------------------------------------------------- builds
for c in lz4 zstd gzip xz none; do
	img="$T/dir-$c.sif"
	check "build from a directory ($c)" "$A" -q build --compress "$c" "$img" "$S"
	[ -f "$img" ] || continue
	check "read back through unsquashfs and libsquashfs ($c)" readback "$img"
	if $can_mount; then
		check "kernel loop mount matches the source ($c)" kernel "$img"
	else
		skip "kernel loop mount ($c)" "needs root, losetup and squashfs"
	fi
done
for src in src.tar src.tar.gz src.tar.zst; do
	img="$T/$src.sif"
	check "build from $src" "$A" -q build --compress zstd --block-size 65536 "$img" "$T/$src"
	[ -f "$img" ] && check "read back $src" readback "$img"
done
if $can_mount; then
	check "kernel loop mount of a tar.gz build" kernel "$T/src.tar.gz.sif"
fi
check "block size 4096 and 1 MiB" sh -c "'$A' -q build -b 4096 '$T/b4k.sif' '$S' && '$A' -q build -b 1048576 '$T/b1m.sif' '$S'"
refused "block size not a power of two" "power of two" "$A" build -b 100000 "$T/bad.sif" "$S"
refused "unknown compressor" "unknown compressor" "$A" build --compress lzo "$T/bad.sif" "$S"
refused "existing output without --force" "exists" "$A" build "$T/dir-lz4.sif" "$S"
refused "a source that does not exist" "No such file" "$A" build "$T/bad.sif" "$T/nope"
check "no output left by failed builds" test ! -e "$T/bad.sif"

# -------------------------------------------------------------- metadata
printf 'bootstrap: scratch\n\n%%labels\n    a b\n' >"$T/Singularity.def"
printf '#!/bin/sh\necho "running $@"\n' >"$T/run.sh"
meta="$T/meta.sif"
check "build with labels, env, deffile, runscript, arch" "$A" -q build --label org.example.team=infra \
	--label 'x=a b' --env GREETING="hello 'world'" --env PATH=/opt/bin:/usr/bin --deffile "$T/Singularity.def" \
	--runscript "$T/run.sh" --arch arm64 "$meta" "$S"
extract "$meta" "$T/meta.sqfs"
cat_img() { rdsquashfs -c "$1" "$T/meta.sqfs"; }
check "labels.json holds the labels" sh -c "$(declare -f cat_img); T='$T'; cat_img /.singularity.d/labels.json | python3 -c '
import json, sys
l = json.load(sys.stdin)
assert l[\"org.example.team\"] == \"infra\" and l[\"x\"] == \"a b\", l
assert l[\"org.label-schema.build-arch\"] == \"arm64\", l
assert l[\"org.label-schema.schema-version\"] == \"1.0\", l'"
check "90-environment.sh exports the variables" sh -c "rdsquashfs -c /.singularity.d/env/90-environment.sh '$T/meta.sqfs' >'$T/env.sh' && sh -c '. $T/env.sh && test \"\$GREETING\" = \"hello '\\''world'\\''\" && test \"\$PATH\" = /opt/bin:/usr/bin'"
check "runscript and deffile in the image" sh -c "rdsquashfs -c /.singularity.d/runscript '$T/meta.sqfs' | cmp - '$T/run.sh' && rdsquashfs -c /.singularity.d/Singularity '$T/meta.sqfs' | cmp - '$T/Singularity.def'"
check "runscript is executable" sh -c "rdsquashfs -s /.singularity.d/runscript '$T/meta.sqfs' | grep -q 'Access: 0755'"
check "SIF objects: deffile, inspect metadata, labels, env, partition" sh -c "'$A' sif list '$meta' | grep -q 'Def.FILE' && '$A' sif list '$meta' | grep -q 'JSON.Generic' && '$A' sif list '$meta' | grep -q 'JSON.Labels' && '$A' sif list '$meta' | grep -q 'Env.Vars' && '$A' sif list '$meta' | grep -q 'FS (Squashfs/\*System/arm64)'"
check "launch script is the reference's" sh -c "'$A' sif header '$meta' | grep -q 'Launch Script: *#!/usr/bin/env run-singularity'"
check "inspect-metadata.json carries what apptainer inspect shows" sh -c "'$A' sif dump \$('$A' sif list '$meta' | awk '/JSON.Generic/ {print \$1}') '$meta' | python3 -c '
import json, sys
m = json.load(sys.stdin)
a = m[\"data\"][\"attributes\"]
assert m[\"type\"] == \"container\"
assert a[\"labels\"][\"org.example.team\"] == \"infra\"
assert a[\"deffile\"].startswith(\"bootstrap: scratch\")
assert \"GREETING\" in a[\"environment\"][\"/.singularity.d/env/90-environment.sh\"]'" 
check "deffile object holds the file" sh -c "'$A' sif dump \$('$A' sif list '$meta' | awk '/Def.FILE/ {print \$1}') '$meta' | cmp - '$T/Singularity.def'"

# --------------------------------------------------------- determinism
check "SOURCE_DATE_EPOCH + --deterministic: identical images" sh -c "
	SOURCE_DATE_EPOCH=1700000000 '$A' -q build --deterministic '$T/d1.sif' '$T/src.tar.zst' &&
	SOURCE_DATE_EPOCH=1700000000 '$A' -q build --deterministic --threads 1 '$T/d2.sif' '$T/src.tar.zst' &&
	cmp '$T/d1.sif' '$T/d2.sif'"

# ------------------------------------------------------- unprivileged
if $root && have setpriv; then
	U="$T/usrc"
	mkdir -p "$U/d" "$T/uout"
	echo x >"$U/d/f"
	chown 1234:1234 "$U/d/f"
	mknod "$U/tty0" c 4 0
	chmod 755 "$T"
	chown 65534:65534 "$T/uout"
	# A copy the unprivileged user can reach, wherever the build tree is.
	install -m 755 "$A" "$T/arca"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$T/arca" build "$T/uout/u.sif" "$U" 2>&1)
	if echo "$out" | grep -q "device node skipped"; then ok "unprivileged: device node skipped with a warning"; else
		notok "unprivileged: device node skipped with a warning"
		echo "$out" | sed 's/^/# /'
	fi
	if [ -f "$T/uout/u.sif" ]; then
		extract "$T/uout/u.sif" "$T/u.sqfs"
		check "unprivileged: every owner is 0:0, no device" sh -c "unsquashfs -lln '$T/u.sqfs' | awk '{print \$2}' | sort -u | grep -qx 0/0 && ! unsquashfs -lln '$T/u.sqfs' | grep -q tty0"
	else
		notok "unprivileged: image built"
	fi
else
	skip "unprivileged build" "needs root and setpriv to drop privileges"
fi

# ---------------------------------------------------------- progress
if have script; then
	check "progress on a terminal" sh -c "script -qec \"'$A' build '$T/tty.sif' '$S'\" /dev/null | grep -q 'entries, .* written'"
fi
check "quiet when stderr is not a terminal" sh -c "! '$A' build '$T/notty.sif' '$S' 2>&1 | grep -q 'written'"

# ---------------------------------------------------------- hostile tars
mktar() { # NAME: python tarfile writes each hostile shape
	python3 - "$T/$1.tar" "$1" <<'PY'
import io, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
t = tarfile.open(path, 'w', format=tarfile.PAX_FORMAT)
def f(name, data=b'x'):
    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
def link(name, target, kind=tarfile.SYMTYPE):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; t.addfile(i)
if kind == 'dotdot': f('ok'); f('a/../../escape')
elif kind == 'absolute': f('/etc/cron.d/evil')
elif kind == 'through-symlink': link('etc', '/etc'); f('etc/passwd')
elif kind == 'hardlink-later': link('h', 'later', tarfile.LNKTYPE); f('later')
elif kind == 'hardlink-outside': link('h', '../../etc/shadow', tarfile.LNKTYPE)
elif kind == 'long-name': f('n' * 300)
elif kind == 'deep': f('/'.join(['d'] * 300) + '/f')
elif kind == 'symlink-abs-ok': link('bin', '/usr/bin'); f('usr/bin/sh')
t.close()
PY
}
for k in dotdot absolute through-symlink hardlink-later hardlink-outside long-name deep symlink-abs-ok; do
	mktar "$k"
done
refused "tar: '..' escaping the root" "'..' component" "$A" build "$T/h.sif" "$T/dotdot.tar"
refused "tar: absolute path" "absolute path" "$A" build "$T/h.sif" "$T/absolute.tar"
refused "tar: a path through a symlink" "non-directory" "$A" build "$T/h.sif" "$T/through-symlink.tar"
refused "tar: hard link to a later entry" "earlier entry" "$A" build "$T/h.sif" "$T/hardlink-later.tar"
refused "tar: hard link out of the archive" "earlier entry" "$A" build "$T/h.sif" "$T/hardlink-outside.tar"
refused "tar: a 300-byte name" "longer than 255" "$A" build "$T/h.sif" "$T/long-name.tar"
refused "tar: nesting too deep" "deeper than" "$A" build "$T/h.sif" "$T/deep.tar"
head -c 5000 "$T/src.tar.gz" >"$T/truncated.tar.gz"
refused "tar: truncated gzip" "tar:" "$A" build "$T/h.sif" "$T/truncated.tar.gz"
check "no image left by refused archives" test ! -e "$T/h.sif"
check "tar: absolute symlink targets are fine" "$A" -q build "$T/ok.sif" "$T/symlink-abs-ok.tar"

echo "1..$n"
[ "$fails" -eq 0 ]
