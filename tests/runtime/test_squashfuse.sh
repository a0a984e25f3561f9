#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The FUSE squashfs server against the tree it was built from: contents
# byte for byte, modes, sizes, link counts, symlink targets, xattrs (and
# owners as root), for several compressors and block sizes, at an offset
# inside a larger file, as root and as an unprivileged user in a user
# namespace. Then the lifecycle (the daemon leaves by itself when the
# namespace dies) and corrupt images (EIO or a refused mount, never a dead
# server). Prints TAP.
#
# usage: test_squashfuse.sh [DRIVER]   (default $ARCA_BUILD/tests/runtime/squashfuse_mount)
# Every mount lives in a mount namespace the driver creates, so nothing
# outlives a run; daemons are checked by pid.
set -u

D=${1:-${ARCA_BUILD:-build}/tests/runtime/squashfuse_mount}
if [ "$(id -u)" != 0 ] || ! command -v mksquashfs >/dev/null || [ ! -c /dev/fuse ] || ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP needs root, mksquashfs, python3 and /dev/fuse"
	exit 0
fi
T=$(mktemp -d /tmp/arca-sqfuse.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT

. "$(dirname "$0")/../tap.sh"
check() { # NAME CMD...: ok when CMD succeeds, its output as diagnostics otherwise
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else
		notok "$name"
		printf '%s\n' "$out" | head -20 | sed 's/^/# /'
	fi
}

# --------------------------------------------------------------- the tree
S=$T/src
mkdir -p "$S/d/e/f" "$S/many" "$S/empty-dir"
echo hello >"$S/a"
: >"$S/empty"
head -c 1000000 /dev/urandom >"$S/big"         # many blocks plus a tail
head -c 262144 /dev/urandom >"$S/exact"        # a whole number of 64K/128K blocks
head -c 3000 /dev/urandom >"$S/d/e/f/small"
truncate -s 5M "$S/sparse"                     # holes: sparse blocks
echo middle | dd of="$S/sparse" bs=1 seek=2000000 conv=notrunc status=none
truncate -s 300k "$S/allhole"
for i in $(seq 300); do echo "$i" >"$S/many/file-$i"; done  # > 256 entries: several dir headers
mkdir "$S/huge"  # a listing over 8 KiB: an extended directory with an index
(cd "$S/huge" && seq -f 'an-entry-with-a-rather-long-name-%g' 1 1500 | xargs touch)
ln -s a "$S/rel"
ln -s /does/not/exist "$S/dangling"
ln -s "$(printf 'x%.0s' $(seq 200))" "$S/longlink"
ln "$S/a" "$S/hard1"
ln "$S/a" "$S/d/hard2"
mkfifo "$S/fifo"
chmod 4755 "$S/big"
chmod 1777 "$S/d/e"
chmod 0444 "$S/exact"
python3 -c '
import os, sys
s = sys.argv[1]
os.setxattr(s + "/a", "user.greeting", b"hello")
os.setxattr(s + "/a", "user.empty", b"")
os.setxattr(s + "/d", "user.big", b"v" * 3000)
os.setxattr(s + "/big", "trusted.t", b"root only")
# The same value on several files: mksquashfs stores it once, out of line.
for f in ("/empty", "/exact", "/d/e/f/small", "/many"):
    os.setxattr(s + f, "user.shared", b"one value, stored once " * 20)
' "$S"
touch -d @1000000000 "$S/d/e/f/small"

cat >"$T/cmp.py" <<'EOF'
import os, stat, sys
src, mnt, owners = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
def walk(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            out[os.path.relpath(p, root)] = p
    return out
a, b = walk(src), walk(mnt)
bad = []
if sorted(a) != sorted(b):
    bad.append("names differ: %s" % sorted(set(a) ^ set(b))[:10])
for rel in sorted(set(a) & set(b)):
    x, y = os.lstat(a[rel]), os.lstat(b[rel])
    got = (stat.S_IFMT(y.st_mode), stat.S_IMODE(y.st_mode), y.st_nlink, int(y.st_mtime))
    want = (stat.S_IFMT(x.st_mode), stat.S_IMODE(x.st_mode), x.st_nlink, int(x.st_mtime))
    if got != want:
        bad.append("%s: type/mode/nlink/mtime %s want %s" % (rel, got, want))
    if owners and (x.st_uid, x.st_gid) != (y.st_uid, y.st_gid):
        bad.append("%s: owner" % rel)
    if stat.S_ISLNK(x.st_mode):
        if os.readlink(a[rel]) != os.readlink(b[rel]):
            bad.append("%s: link target" % rel)
        continue
    if stat.S_ISREG(x.st_mode):
        if x.st_size != y.st_size:
            bad.append("%s: size %d want %d" % (rel, y.st_size, x.st_size))
        with open(a[rel], "rb") as f, open(b[rel], "rb") as g:
            if f.read() != g.read():
                bad.append("%s: contents" % rel)
        if x.st_size > 100000:  # reads at odd offsets and lengths
            with open(a[rel], "rb") as f, open(b[rel], "rb") as g:
                for off, ln in ((1, 1), (65535, 3), (131071, 70000), (x.st_size - 5, 100)):
                    f.seek(off); g.seek(off)
                    if f.read(ln) != g.read(ln):
                        bad.append("%s: bytes at %d" % (rel, off))
    if stat.S_ISREG(x.st_mode) or stat.S_ISDIR(x.st_mode):
        ux = sorted(k for k in os.listxattr(a[rel]) if k.startswith("user."))
        uy = sorted(k for k in os.listxattr(b[rel]) if k.startswith("user."))
        if ux != uy:
            bad.append("%s: xattr names %s want %s" % (rel, uy, ux))
        for k in ux:
            if os.getxattr(a[rel], k) != os.getxattr(b[rel], k):
                bad.append("%s: xattr %s" % (rel, k))
        try:
            os.getxattr(b[rel], "user.absent")
            bad.append("%s: absent xattr found" % rel)
        except OSError as e:
            if e.errno != 61:
                bad.append("%s: absent xattr: %s" % (rel, e))
# Hard links: one inode in the source, one inode in the mount.
groups = {}
for rel in a:
    x = os.lstat(a[rel])
    if stat.S_ISREG(x.st_mode) and x.st_nlink > 1 and rel in b:
        groups.setdefault(x.st_ino, set()).add(os.lstat(b[rel]).st_ino)
for inos in groups.values():
    if len(inos) != 1:
        bad.append("hard links have inodes %s" % sorted(inos))
if sorted(os.listdir(mnt + "/many")) != sorted(os.listdir(src + "/many")):
    bad.append("listdir many")
try:
    open(mnt + "/a", "r+b")
    bad.append("opened for writing")
except OSError as e:
    if e.errno != 30:
        bad.append("write open: %s" % e)
if bad:
    print("\n".join(bad[:20]))
    sys.exit(1)
EOF

# The unprivileged user must reach the tree and the images.
mkdir -p "$T/mnt" "$T/w"
chmod -R a+rX "$T"
chmod 1777 "$T/w"

# ------------------------------------------------------------ contents
for comp in lz4 zstd gzip xz; do
	img=$T/img-$comp.sqfs
	if ! mksquashfs "$S" "$img" -noappend -quiet -no-progress -comp "$comp" -b 65536 -xattrs >/dev/null 2>&1; then
		ok "$comp: # SKIP mksquashfs cannot make $comp"
		continue
	fi
	chmod a+r "$img"
	check "$comp: tree matches, as root" "$D" "$img" "$T/mnt" python3 "$T/cmp.py" "$S" "$T/mnt" 1
	check "$comp: tree matches, unprivileged in a user namespace" \
		setpriv --reuid 65534 --regid 65534 --clear-groups "$D" "$img" "$T/mnt" python3 "$T/cmp.py" "$S" "$T/mnt" 0
done

img=$T/img-big-blocks.sqfs
mksquashfs "$S" "$img" -noappend -quiet -no-progress -b 1M -no-fragments >/dev/null 2>&1
check "1 MiB blocks, no fragments" "$D" "$img" "$T/mnt" python3 "$T/cmp.py" "$S" "$T/mnt" 1

# At an offset inside a larger file, as in a SIF partition.
head -c 12288 /dev/urandom >"$T/offset.img"
cat "$T/img-lz4.sqfs" >>"$T/offset.img"
head -c 5000 /dev/urandom >>"$T/offset.img"
check "partition at an offset" "$D" --offset 12288 "$T/offset.img" "$T/mnt" python3 "$T/cmp.py" "$S" "$T/mnt" 1

# Kernel permission checks apply (default_permissions): 0700 root dir.
mkdir -p "$T/perm/secret" && echo s >"$T/perm/secret/s" && chmod 700 "$T/perm/secret"
mksquashfs "$T/perm" "$T/perm.sqfs" -noappend -quiet -no-progress >/dev/null 2>&1
chmod a+r "$T/perm.sqfs"
check "modes are enforced for other users" "$D" "$T/perm.sqfs" "$T/mnt" \
	setpriv --reuid 65534 --regid 65534 --clear-groups sh -c '! cat "$MNT/secret/s" 2>/dev/null'

# ----------------------------------------------------------- lifecycle
pidfile=$T/w/daemon.pid
"$D" --keep --pidfile "$pidfile" "$T/img-lz4.sqfs" "$T/mnt" true
pid=$(cat "$pidfile")
gone=0
for _ in $(seq 50); do
	if ! kill -0 "$pid" 2>/dev/null; then gone=1; break; fi
	sleep 0.1
done
if [ $gone = 1 ]; then ok "daemon exits when its namespace dies"; else
	notok "daemon exits when its namespace dies"
	kill -9 "$pid" 2>/dev/null
fi
rm -f "$pidfile"
setpriv --reuid 65534 --regid 65534 --clear-groups "$D" --keep --pidfile "$pidfile" "$T/img-lz4.sqfs" "$T/mnt" true
pid=$(cat "$pidfile" 2>/dev/null || echo 0)
gone=0
for _ in $(seq 50); do
	if ! kill -0 "$pid" 2>/dev/null; then gone=1; break; fi
	sleep 0.1
done
if [ $gone = 1 ] && [ "$pid" != 0 ]; then ok "daemon exits when its user namespace dies"; else
	notok "daemon exits when its user namespace dies"
	kill -9 "$pid" 2>/dev/null
fi
# Output pipes are not held open by the daemon (the caller sees EOF).
check "daemon holds no inherited pipe" timeout 10 sh -c "\"$D\" --keep \"$T/img-lz4.sqfs\" \"$T/mnt\" true | cat"

# ------------------------------------------------------- corrupt images
check "not a squashfs: refused" sh -c "head -c 100000 /dev/urandom >\"$T/junk\"; \"$D\" \"$T/junk\" \"$T/mnt\" true; [ \$? = 124 ]"
size=$(stat -c %s "$T/img-gzip.sqfs")
check "truncated image: refused" sh -c "head -c $((size / 2)) \"$T/img-gzip.sqfs\" >\"$T/trunc\"; \"$D\" \"$T/trunc\" \"$T/mnt\" true; [ \$? = 124 ]"
crashes=0
refused=0
for i in $(seq 1 40); do
	cp "$T/img-gzip.sqfs" "$T/bad"
	# Half the hits land in the tables at the end of the image.
	if [ $((i % 2)) = 0 ]; then off=$(( (RANDOM * 32768 + RANDOM) % size ));
	else off=$(( size - 1 - (RANDOM * 32768 + RANDOM) % (size / 8) )); fi
	head -c $((1 + RANDOM % 64)) /dev/urandom | dd of="$T/bad" bs=1 seek=$off conv=notrunc status=none
	"$D" "$T/bad" "$T/mnt" sh -c 'find "$MNT" >/dev/null 2>&1; find "$MNT" -type f -exec cat {} + >/dev/null 2>&1; find "$MNT" -type l -exec readlink {} + >/dev/null 2>&1; ls -lR "$MNT" >/dev/null 2>&1; stat -f "$MNT" >/dev/null' >/dev/null 2>&1
	rc=$?
	case $rc in
	0) ;;
	124) refused=$((refused + 1)) ;;
	*) crashes=$((crashes + 1)); echo "# corrupt image at offset $off: exit $rc" ;;
	esac
done
if [ $crashes = 0 ]; then ok "40 corrupted images: server survives ($refused refused at mount)"; else
	notok "40 corrupted images: $crashes made the server die"
fi

echo "1..$n"
[ $fails = 0 ]
