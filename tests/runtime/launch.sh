#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# arca run|exec|shell|inspect end to end, on an image this script builds
# from busybox-static: exit status and signals, environment, binds,
# writable-tmpfs, namespaces, hardening (capabilities, no_new_privs,
# setuid, mount), inspect output, and that nothing leaks (loop devices,
# mounts, processes), after a normal exit and after SIGKILL of arca. As
# root, then as an unprivileged user (uid 65534 through setpriv) on the
# FUSE path. Prints TAP.
set -u

A="$ARCA_BUILD/cmd/arca/arca"
T=$(mktemp -d /tmp/arca-runtime.XXXXXX)
chmod 755 "$T"
MARK=$((700000 + RANDOM))
BGPIDS=()
cleanup() {
	for p in "${BGPIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../tap.sh"

for tool in mksquashfs busybox setpriv; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool missing"
		exit 0
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (it tests both the root and the unprivileged paths)"
	exit 0
fi

# ---------------------------------------------------------------- the image
R="$T/root"
mkdir -p "$R"/{bin,etc,proc,dev,sys,tmp,home,root,var/tmp,.singularity.d/env,data}
cp "$(command -v busybox)" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
# a setuid-root shell: must not grant anything in the container
cp "$R/bin/busybox" "$R/bin/busybox.suid"
chmod 4755 "$R/bin/busybox.suid"
# A real setuid-root program, and one with file capabilities: both would
# escalate anywhere but on a nosuid mount under no_new_privs.
HAVE_ESCALATORS=0
cat >"$T/esc.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			fputs(line, stdout);
	printf("euid %d setuid0 %d\n", (int)geteuid(), setuid(0));
	return 0;
}
EOF
if ${CC:-cc} -static -O2 -o "$R/bin/esc-suid" "$T/esc.c" 2>/dev/null; then
	cp "$R/bin/esc-suid" "$R/bin/esc-caps"
	chmod 4755 "$R/bin/esc-suid"
	setcap cap_sys_admin,cap_setuid+ep "$R/bin/esc-caps" 2>/dev/null && HAVE_ESCALATORS=1
fi
cat >"$R/.singularity.d/runscript" <<'EOF'
#!/bin/sh
echo "runscript: $*"
exit 3
EOF
chmod 755 "$R/.singularity.d/runscript"
printf 'export FOO=from-image\nexport SPACED="a b"\n' >"$R/.singularity.d/env/90-environment.sh"
echo '{"maintainer":"arca tests","version":"1.0"}' >"$R/.singularity.d/labels.json"
echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
echo "# image" >"$R/etc/hosts"
mksquashfs "$R" "$T/img.sqfs" -noappend -quiet -no-progress -all-root -comp lz4 >/dev/null
mksquashfs "$R" "$T/img-zstd.sqfs" -noappend -quiet -no-progress -all-root -comp zstd >/dev/null 2>&1 ||
	cp "$T/img.sqfs" "$T/img-zstd.sqfs"
echo '{"from.descriptor":"yes"}' >"$T/labels.json"
echo 'export DESC=from-descriptor' >"$T/env.txt"
mk() {
	"$A" sif new "$1" &&
		"$A" sif add "$1" "$2" --datatype 4 --parttype 2 --partfs 1 --partarch 2 &&
		"$A" sif add "$1" "$T/labels.json" --datatype 3 &&
		"$A" sif add "$1" "$T/env.txt" --datatype 2
}
mk "$T/img.sif" "$T/img.sqfs" >/dev/null || { echo "1..0 # SKIP cannot build the image"; exit 0; }
mk "$T/img-zstd.sif" "$T/img-zstd.sqfs" >/dev/null
chmod 644 "$T"/*.sif
I="$T/img.sif"
mkdir -p "$T/share" && echo shared >"$T/share/file" && chmod -R a+rX "$T/share"

loops() { losetup -a 2>/dev/null | grep -c "$T/" ; }
# host mounts that could be ours: of the test directory, or squashfs/FUSE
# (other work on the machine may only remove such mounts meanwhile)
mounts() { grep -E -c -- "$T| - squashfs | - fuse" /proc/self/mountinfo; }
fewer() { [ "$2" -le "$1" ] && echo ok || echo "$2 > $1"; }
# the workload's sleep itself, not arca's command line that names it
procs() { pgrep -f "^(/bin/)?sleep $MARK\$" | wc -l; }
LOOPS0=$(loops)
MOUNTS0=$(mounts)

# ---------------------------------------------------------------- as root
cd "$T"
out=$("$A" run "$I" x y 2>&1)
check "root: run executes the runscript with its arguments, exit status 3" "runscript: x y/3" "$out/$?"
"$A" exec "$I" /bin/sh -c 'exit 42'
check "root: exec exit status propagates" 42 $?
"$A" exec "$I" /bin/sh -c 'kill -TERM $$'
check "root: death by signal is 128+N" 143 $?
out=$("$A" exec "$I" /bin/nosuch 2>&1)
check "root: a missing command exits 127" 127 $?
out=$("$A" exec "$T/nosuch.sif" /bin/true 2>&1)
check "root: a missing image exits 255" 255 $?
out=$(HOSTVAR=h "$A" exec --env FOO=over "$I" /bin/sh -c 'echo "$FOO|$SPACED|$DESC|$HOSTVAR|$HOME"')
check "root: env scripts, descriptor, host variables; --env wins" "over|a b|from-descriptor|h|/root" "$out"
out=$(HOSTVAR=h APPTAINERENV_VIA=prefixed "$A" exec --cleanenv "$I" /bin/sh -c 'echo "$FOO|${HOSTVAR-unset}|$VIA"')
check "root: --cleanenv drops host variables, keeps APPTAINERENV_" "from-image|unset|prefixed" "$out"
out=$("$A" exec "$I" /bin/sh -c 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status | tr -s "\t" " " | tr "\n" " "')
check "root: no capabilities, no_new_privs" "CapInh: 0000000000000000 CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 CapAmb: 0000000000000000 NoNewPrivs: 1 " "$out"
out=$("$A" exec "$I" /bin/sh -c 'grep "^Seccomp:" /proc/self/status | tr -s "\t" " "')
check "root: a seccomp filter is installed by default" "Seccomp: 2" "$out"
cat >"$T/seccomp.json" <<'EOF2'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF2
out=$("$A" exec --seccomp "$T/seccomp.json" "$I" /bin/sh -c 'mkdir /tmp/d 2>&1 || echo denied')
contains "root: --seccomp FILE applies an OCI profile" "denied" "$out"
out=$("$A" exec "$I" /bin/sh -c 'cut -d" " -f5,6 /proc/self/mountinfo | grep -v "nosuid" | grep -v "^/dev/pts "')
check "root: every mount is nosuid" "" "$out"
out=$("$A" exec "$I" /bin/sh -c 'echo x >/newfile' 2>&1)
contains "root: the image root is read-only" "Read-only file system" "$out"
out=$("$A" exec --writable-tmpfs "$I" /bin/sh -c 'echo written >/newfile && cat /newfile' 2>&1)
check "root: --writable-tmpfs makes the root writable" "written" "$out"
out=$("$A" exec -B "$T/share:/data:ro" "$I" /bin/sh -c 'cat /data/file; (echo x >/data/new) 2>/dev/null || echo refused')
check "root: read-only bind" "shared
refused" "$out"
out=$("$A" exec -B "$T/share:/mnt/new/place" "$I" /bin/sh -c 'cat /mnt/new/place/file')
check "root: bind to a path the image lacks" "shared" "$out"
out=$(cd / && "$A" exec "$I" /bin/sh -c 'grep " / / " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1')
check "root: the image itself is the root when nothing is added (no overlay)" "squashfs" "$out"
out=$(cd / && "$A" exec --userns "$I" /bin/sh -c 'grep " / / " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1')
contains "root: --userns takes the FUSE root" "^fuse" "$out"
out=$("$A" exec "$I" /bin/cat /etc/hosts)
check "root: the host's /etc/hosts (the image has one)" "$(cat /etc/hosts)" "$out"
out=$("$A" exec --net none "$I" /bin/cat /etc/hosts)
check "root: the image's /etc/hosts with --net none" "# image" "$out"
out=$("$A" exec --pwd /etc "$I" /bin/pwd)
check "root: --pwd" "/etc" "$out"
out=$("$A" exec "$I" /bin/pwd)
check "root: the working directory is bound" "$T" "$out"
out=$("$A" exec -C "$I" /bin/sh -c 'pwd; ls /root | wc -l')
check "root: --containall starts in an empty home" "/root
0" "$out"
out=$(HOSTVAR=h "$A" exec -c "$I" /bin/sh -c 'echo "$(pwd) $(ls /root | wc -l) $HOSTVAR"')
check "root: --contain: empty home, environment kept" "/root 0 h" "$out"
out=$(cd / && "$A" exec --no-home "$I" /bin/sh -c 'grep -c " /root " /proc/self/mountinfo')
check "root: --no-home" "0" "$out"
out=$("$A" exec "$I" /bin/sh -c 'echo $$; ls /proc | grep -c "^[0-9]"')
contains "root: the workload sees its own pid namespace" "^[23]$" "$(echo "$out" | head -1)"
out=$("$A" exec --net none "$I" /bin/sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "')
check "root: --net none has only loopback" "lo" "$out"
out=$("$A" exec --hostname box "$I" /bin/hostname)
check "root: --hostname in its own uts namespace" "box" "$out"
out=$("$A" exec "$I" /bin/sh -c 'mount -t tmpfs none /tmp 2>&1 || echo refused' 2>&1)
contains "root: mount inside is refused" "refused" "$out"
out=$("$A" exec -B "$T/share:/data" "$I" /bin/sh -c 'ls /dev | tr "\n" " "; test -c /dev/null && echo >/dev/null && echo devok')
contains "root: minimal /dev" "null.*pts.*shm.*urandom.*devok" "$out"
out=$("$A" exec "$T/img-zstd.sif" /bin/sh -c 'echo zstd ok')
check "root: zstd image" "zstd ok" "$out"
out=$("$A" inspect "$I")
check "inspect: labels (image file and descriptor)" "from.descriptor: yes
maintainer: arca tests
version: 1.0" "$out"
out=$("$A" inspect --json -r -e "$I")
contains "inspect --json: runscript" '"runscript": "#!/bin/sh' "$out"
contains "inspect --json: environment" 'export DESC=from-descriptor' "$out"
contains "inspect --json: type container" '"type": "container"' "$out"

# resource limits (cgroup v2, else v1): enforced, or refused clearly
out=$("$A" exec --pids-limit 8 "$I" /bin/sh -c 'for i in $(seq 20); do sleep 5 & done; echo spawned' 2>&1)
st=$?
if echo "$out" | grep -q "resource limits"; then
	skip "root: --pids-limit" "no usable cgroup here: $out"
else
	contains "root: --pids-limit stops a fork bomb" "can't fork" "$out"
	"$A" exec --memory 16M "$I" /bin/sh -c 'x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived' >/dev/null 2>&1
	check "root: --memory: the workload is OOM-killed (137)" 137 $?
	out=$("$A" exec --cpus 0.5 "$I" /bin/true 2>&1)
	check "root: --cpus" "0/" "$?/$out"
	check "root: no cgroup is left behind" "" "$(ls -d /sys/fs/cgroup/*/arca-* /sys/fs/cgroup/arca-* 2>/dev/null)"
fi

# an image made by `arca build` (its action and env scripts)
if "$A" build --help >/dev/null 2>&1; then
	B="$T/broot"
	mkdir -p "$B/bin"
	cp "$R/bin/busybox" "$B/bin/busybox"
	for a in sh echo cat id; do ln -s busybox "$B/bin/$a"; done
	printf '#!/bin/sh\necho "built: $* $GREETING $LD_LIBRARY_PATH"\n' >"$T/rs.sh"
	if "$A" build -l owner=me -e GREETING=hello --runscript "$T/rs.sh" "$T/built.sif" "$B" >/dev/null 2>&1; then
		chmod 644 "$T/built.sif"
		out=$("$A" run "$T/built.sif" one 2>&1)
		check "root: an image from arca build runs" "built: one hello /.singularity.d/libs" "$out"
		out=$(cd / && setpriv --reuid 65534 --regid 65534 --clear-groups "$A" run "$T/built.sif" two 2>&1)
		check "user: an image from arca build runs" "built: two hello /.singularity.d/libs" "$out"
		out=$("$A" inspect "$T/built.sif" | grep '^owner')
		check "inspect: labels of an arca build image" "owner: me" "$out"
	else
		notok "arca build of the test root"
	fi
else
	skip "images from arca build" "no arca build"
fi

# a bare image: one static binary, no directories, /tmp a symlink; mount
# points are made in the overlay and placed where the image's links lead
M="$T/mroot"
mkdir -p "$M/x"
cp "$R/bin/busybox" "$M/busybox"
ln -s /x "$M/tmp"
mksquashfs "$M" "$T/mini.sqfs" -noappend -quiet -no-progress -all-root >/dev/null &&
	"$A" sif new "$T/mini.sif" >/dev/null &&
	"$A" sif add "$T/mini.sif" "$T/mini.sqfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
chmod 644 "$T/mini.sif"
out=$(cd / && setpriv --reuid 65534 --regid 65534 --clear-groups "$A" exec -B "$T/share:/data" "$T/mini.sif" \
	/busybox sh -c '/busybox cat /data/file; /busybox grep -c " /x " /proc/self/mountinfo; /busybox test -c /dev/null && echo dev')
check "user: a bare image gets its mount points; /tmp follows the image's link" "shared
1
dev" "$out"

# a dynamically linked root: the host's bash and id with their libraries
D="$T/droot"
mkdir -p "$D"/{proc,dev,sys,tmp,etc,root,home}
for b in "$(command -v bash)" "$(command -v id)"; do
	mkdir -p "$D$(dirname "$b")" && cp "$b" "$D$b"
	for l in $(ldd "$b" | grep -o '/[^ ]*'); do mkdir -p "$D$(dirname "$l")" && cp -n "$l" "$D$l"; done
done
if mksquashfs "$D" "$T/dyn.sqfs" -noappend -quiet -no-progress -all-root -comp zstd >/dev/null 2>&1 &&
	"$A" sif new "$T/dyn.sif" >/dev/null &&
	"$A" sif add "$T/dyn.sif" "$T/dyn.sqfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null; then
	chmod 644 "$T/dyn.sif"
	out=$("$A" exec "$T/dyn.sif" "$(command -v bash)" -c 'echo "${BASH_VERSION%%.*}"')
	check "root: a dynamically linked workload (host bash and its libraries)" "$(bash -c 'echo "${BASH_VERSION%%.*}"')" "$out"
	out=$(cd / && setpriv --reuid 65534 --regid 65534 --clear-groups "$A" exec "$T/dyn.sif" "$(command -v id)" -u)
	check "user: a dynamically linked workload" "65534" "$out"
else
	notok "building the dynamically linked image"
fi

# the signer gate (execution control list) decides before anything is mounted
printf 'activated = true\n[[execgroup]]\nmode = "whitelist"\ndirpath = ""\nkeyfp = ["12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"]\n' >"$T/ecl.toml"
out=$("$A" exec --ecl "$T/ecl.toml" "$I" /bin/true 2>&1)
check "root: an unsigned image is refused by a whitelist ECL (255)" "255 1" "$? $(echo "$out" | grep -c 'execution control list')"
printf 'activated = maybe\n' >"$T/ecl-bad.toml"
"$A" exec --ecl "$T/ecl-bad.toml" "$I" /bin/true >/dev/null 2>&1
check "root: a malformed ECL refuses (fail closed)" 255 $?
check "root: nothing was mounted for refused images" "$LOOPS0" "$(loops)"
printf 'activated = false\n' >"$T/ecl-off.toml"
"$A" exec --ecl "$T/ecl-off.toml" "$I" /bin/true
check "root: an inactive ECL lets the image run" 0 $?

# signals: SIGTERM to arca reaches the workload, which decides the status
"$A" exec "$I" /bin/sh -c "trap 'echo caught; exit 7' TERM; sleep $MARK & wait" >"$T/sig.out" 2>&1 &
apid=$!
BGPIDS+=($apid)
for _ in $(seq 50); do [ "$(procs)" -ge 1 ] && break; sleep 0.1; done
kill -TERM $apid
wait $apid
st=$?
check "root: SIGTERM is forwarded, the workload's status returned" "caught/7" "$(cat "$T/sig.out")/$st"

# SIGKILL of arca: nothing survives
"$A" exec "$I" /bin/sleep $MARK &
apid=$!
BGPIDS+=($apid)
for _ in $(seq 50); do [ "$(procs)" -ge 1 ] && break; sleep 0.1; done
{ kill -KILL $apid; wait $apid; } 2>/dev/null
for _ in $(seq 50); do [ "$(procs)" = 0 ] && [ "$(loops)" = "$LOOPS0" ] && break; sleep 0.1; done
check "root: after SIGKILL of arca no process remains" 0 "$(procs)"
check "root: no loop device remains" "$LOOPS0" "$(loops)"
check "root: no mount remains" ok "$(fewer "$MOUNTS0" "$(mounts)")"

# SIGKILL at random points of the start-up (before, during and after the
# mounts): the init must never outlive arca, whenever it dies
for _ in $(seq 15); do
	"$A" exec "$I" /bin/sleep $MARK &
	apid=$!
	sleep 0.00$((RANDOM % 10))
	{ kill -KILL $apid; wait $apid; } 2>/dev/null
done
for _ in $(seq 50); do [ "$(procs)" = 0 ] && [ "$(loops)" = "$LOOPS0" ] && break; sleep 0.1; done
check "root: SIGKILL during start-up leaves no process" 0 "$(procs)"
check "root: SIGKILL during start-up leaves no loop device" "$LOOPS0" "$(loops)"

# ---------------------------------------------------------------- unprivileged
U="setpriv --reuid 65534 --regid 65534 --clear-groups"
if ! $U unshare -U true 2>/dev/null; then
	skip "unprivileged launches" "user namespaces unavailable for uid 65534"
else
	cd /
	out=$($U "$A" run "$I" a 2>&1)
	check "user: run, exit status 3" "runscript: a/3" "$out/$?"
	out=$($U "$A" exec "$I" /bin/sh -c 'id -u; grep -E "^CapEff|^NoNewPrivs" /proc/self/status | tr -s "\t" " "; echo $FOO')
	check "user: same uid, no capabilities, env" "65534
CapEff: 0000000000000000
NoNewPrivs: 1
from-image" "$out"
	out=$($U "$A" exec "$I" /bin/sh -c 'stat -c %A /bin/busybox.suid; grep " / / " /proc/self/mountinfo | grep -c nosuid')
	check "user: setuid-root binaries in the image are inert (nosuid root)" "-rwsr-xr-x
1" "$out"
	out=$($U "$A" exec "$I" /bin/whoami 2>&1)
	check "user: the user is added to the image's /etc/passwd" "$(getent passwd 65534 | cut -d: -f1)" "$out"
	if [ $HAVE_ESCALATORS = 1 ]; then
		out=$($U "$A" exec "$I" /bin/esc-suid | tr -s "\t" " ")
		check "user: a setuid-root program does not escalate" "CapEff: 0000000000000000
euid 65534 setuid0 -1" "$out"
		out=$($U "$A" exec "$I" /bin/esc-caps | tr -s "\t" " ")
		check "user: file capabilities are not granted" "CapEff: 0000000000000000
euid 65534 setuid0 -1" "$out"
		out=$("$A" exec "$I" /bin/esc-caps | tr -s "\t" " ")
		check "root: file capabilities are not granted" "CapEff: 0000000000000000
euid 0 setuid0 0" "$out"
	else
		skip "setuid and file-capability escalation" "no static C compiler or setcap"
	fi
	out=$($U "$A" exec --memory 64M "$I" /bin/true 2>&1)
	st=$?
	if [ $st = 0 ]; then ok "user: --memory (delegated cgroup)"; else
		check "user: --memory without a delegated cgroup is refused clearly" "255 1" "$st $(echo "$out" | grep -c 'resource limits')"
	fi
	# the host lets this user create user namespaces (checked above); the
	# default seccomp list does not, inside: no way back to capabilities
	out=$($U "$A" exec "$I" /bin/sh -c 'unshare -U -r /bin/true 2>/dev/null && echo created || echo refused')
	check "user: a seccomp-blocked call (unshare of a user namespace) fails" "refused" "$out"
	$U "$A" exec --ecl "$T/ecl-off.toml" "$I" /bin/true 2>/dev/null
	check "user: --ecl is refused to non-root users" 2 $?
	$U "$A" exec "$I" /bin/sh -c 'exit 5'
	check "user: exit status" 5 $?
	out=$($U "$A" exec --fakeroot "$I" /bin/sh -c 'id -u; (echo x >/etc/y) 2>/dev/null || echo ro')
	check "user: --fakeroot is root inside, root stays read-only" "0
ro" "$out"
	out=$($U "$A" exec --fakeroot --writable-tmpfs "$I" /bin/sh -c 'echo x >/etc/y && cat /etc/y')
	check "user: --fakeroot --writable-tmpfs" "x" "$out"
	out=$($U "$A" exec -B "$T/share:/data:ro" "$I" /bin/cat /data/file)
	check "user: bind" "shared" "$out"
	out=$($U "$A" exec -B "$T/share:/home/someone" "$I" /bin/cat /home/someone/file)
	check "user: bind below a directory the image gives to root" "shared" "$out"
	out=$($U "$A" exec --net none "$I" /bin/sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "')
	check "user: --net none" "lo" "$out"
	out=$($U "$A" exec "$I" /bin/sh -c 'cat /proc/1/environ >/dev/null 2>&1 && echo readable || echo hidden')
	check "user: the init is not readable by the workload" "hidden" "$out"

	$U "$A" exec "$I" /bin/sleep $MARK &
	apid=$!
	BGPIDS+=($apid)
	for _ in $(seq 50); do [ "$(procs)" -ge 1 ] && break; sleep 0.1; done
	arca_pid=$(pgrep -P $apid)
	{ kill -KILL "${arca_pid:-$apid}"; wait $apid; } 2>/dev/null
	for _ in $(seq 50); do [ "$(procs)" = 0 ] && break; sleep 0.1; done
	check "user: after SIGKILL of arca no process (workload, FUSE server) remains" 0 "$(procs)"
	for _ in $(seq 10); do
		$U "$A" exec "$I" /bin/sleep $MARK &
		apid=$!
		sleep 0.0$((RANDOM % 3))$((RANDOM % 10))
		{ kill -KILL $apid; wait $apid; } 2>/dev/null
	done
	for _ in $(seq 50); do [ "$(procs)" = 0 ] && break; sleep 0.1; done
	check "user: SIGKILL during start-up leaves no process" 0 "$(procs)"
	check "user: ... and no FUSE server" 0 "$(pgrep -u 65534 -f "$A" | wc -l)"
	check "user: no mount remains" ok "$(fewer "$MOUNTS0" "$(mounts)")"
fi

echo "1..$n"
[ $fails = 0 ]
