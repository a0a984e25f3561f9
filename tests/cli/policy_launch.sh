#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The launch policy in arca run|exec and its CLI (arca policy launch, arca
# policy log verify), on a busybox image this script builds: the embedded
# default policy, a site policy that denies (enforcing: refused before
# anything is mounted; permissive: allowed with a warning), attested mode on
# a host without a TPM, a policy that fails at run time, the decision log's
# chain and what happens when it cannot be written (as root and as an
# unprivileged user). Every configuration is a temporary arca.toml named by
# $ARCA_CONFIG: nothing is written to /etc or /var/log. Prints TAP.
set -u

A="$ARCA_BUILD/cmd/arca/arca"
T=$(mktemp -d /tmp/arca-policy-launch.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
# this host's own settings must not leak in
unset ARCA_CONFIG ARCA_TPM_TCTI ARCA_ATTEST_DIR
export ARCA_KEYDIR="$T/keys"

. "$(dirname "$0")/../tap.sh"

for tool in mksquashfs busybox setpriv python3; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool missing"
		exit 0
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (it counts loop devices and mounts, and launches as another user)"
	exit 0
fi
if ! "$A" run --help >/dev/null 2>&1; then
	echo "1..0 # SKIP this arca has no run verb"
	exit 0
fi

# ---------------------------------------------------------------- images
R="$T/root"
mkdir -p "$R"/{bin,etc,proc,dev,sys,tmp,home,root}
cp "$(command -v busybox)" "$R/bin/busybox"
for a in sh true echo cat id; do ln -s busybox "$R/bin/$a"; done
mksquashfs "$R" "$T/img.sqfs" -noappend -quiet -no-progress -all-root -comp lz4 >/dev/null
mk() {
	"$A" sif new "$1" && "$A" sif add --groupid 1 "$1" "$T/img.sqfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2
}
if ! mk "$T/img.sif" >/dev/null || ! mk "$T/signed.sif" >/dev/null ||
	! "$A" key newpair --pem "$T/k" >/dev/null 2>&1 || ! "$A" sign --key "$T/k.key" "$T/signed.sif" >/dev/null 2>&1; then
	echo "1..0 # SKIP cannot build and sign the images"
	exit 0
fi
cp "$T/img.sif" "$T/denied.sif"
chmod 644 "$T"/*.sif
I="$T/img.sif"

loops() { losetup -a 2>/dev/null | grep -c "$T/"; }
mounts() { grep -E -c -- "$T| - squashfs | - fuse" /proc/self/mountinfo; }
fewer() { [ "$2" -le "$1" ] && echo ok || echo "$2 > $1"; }
LOOPS0=$(loops)
MOUNTS0=$(mounts)
cd "$T"

# ---------------------------------------------------------------- policies
mkdir -p "$T/site" "$T/broken" "$T/empty"
cat >"$T/site/launch.rego" <<'EOF'
package arca.launch

import rego.v1

default allow := false

allow if count(deny) == 0

deny contains msg if {
	endswith(input.image.path, "/denied.sif")
	msg := sprintf("image '%s' is on the site's deny list", [input.image.path])
}

warn contains "site policy in use"
EOF
# a conflict between two complete rules: an error while evaluating
cat >"$T/broken/launch.rego" <<'EOF'
package arca.launch

import rego.v1

allow := true if input.mode
allow := false if input.mode
EOF
# cfg NAME MODE DIR [EXTRA...]: a temporary arca.toml
cfg() {
	local name=$1
	{
		echo "mode = \"$2\""
		echo "[policy]"
		echo "dir = \"$3\""
		echo "decision_log = \"$T/log/$name.log\""
		shift 3
		for l in "$@"; do echo "$l"; done
	} >"$T/$name.toml"
	echo "$T/$name.toml"
}
DEFAULT=$(cfg default enforcing "$T/empty")
SITE=$(cfg site enforcing "$T/site")
PERM=$(cfg perm permissive "$T/site")
BROKEN=$(cfg broken enforcing "$T/broken")
echo '{"version": 1, "pcrs": {"sha256": {"0": "0000000000000000000000000000000000000000000000000000000000000000"}}}' >"$T/ref.json"
ATT=$(cfg att attested "$T/empty" "[attest]" "tcti = \"device:$T/no-tpm\"" "refstate = \"$T/ref.json\"")

# [images] ecl: the signer gate's list comes from arca.toml
cat >"$T/ecl.toml" <<'EOF'
activated = true
[[execgroup]]
mode = "whitelist"
dirpath = ""
keyfp = ["12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"]
EOF
ECL=$(cfg ecl enforcing "$T/empty" "[images]" "ecl = \"$T/ecl.toml\"")
out=$(ARCA_CONFIG=$ECL "$A" exec "$I" /bin/echo ran 2>&1)
rc=$?
check "[images] ecl: an image no listed key signed is refused" "255" "$rc"
contains "[images] ecl: ... by the execution control list" "execution control list" "$out"
lacks "[images] ecl: ... before anything ran" "^ran" "$out"
check "[images] ecl: ... and nothing mounted" "ok" "$(fewer "$MOUNTS0" "$(mounts)")"

# ---------------------------------------------------------------- embedded default policy
out=$(ARCA_CONFIG=$DEFAULT "$A" exec "$I" /bin/echo ran 2>"$T/err")
check "default policy: an unsigned image runs" "ran/0" "$out/$?"
contains "default policy: ... with a warning that it is not signed" "warning: launch policy: the image is not signed" "$(cat "$T/err")"
out=$(ARCA_CONFIG=$DEFAULT "$A" exec "$T/signed.sif" /bin/echo ran 2>"$T/err")
check "default policy: an image signed by an untrusted key runs" "ran/0" "$out/$?"
contains "default policy: ... with a warning naming the signature" "warning: launch policy: signature [0-9]* is by no trusted key" "$(cat "$T/err")"
out=$(ARCA_CONFIG=$DEFAULT "$A" policy launch "$I" /bin/true)
check "policy launch: allowed, exit 0" 0 $?
contains "policy launch: prints allowed" "^allowed: true$" "$out"
contains "policy launch: prints the mode" "^mode: enforcing$" "$out"
contains "policy launch: prints the warning" "^warn: the image is not signed$" "$out"

# ---------------------------------------------------------------- a site policy that denies
out=$(ARCA_CONFIG=$SITE "$A" -v exec "$T/denied.sif" /bin/echo ran 2>"$T/err")
st=$?
err=$(cat "$T/err")
check "enforcing: a denied image is refused with exit 255, the workload never runs" "/255" "$out/$st"
contains "enforcing: the refusal names the policy's reason" "refused by the launch policy (enforcing mode): image '$T/denied.sif' is on the site's deny list" "$err"
contains "enforcing: the policy's warnings are printed too" "warning: launch policy: site policy in use" "$err"
contains "enforcing: the gate ran" "launch: gate" "$err"
lacks "enforcing: no container was started for a refused image" "launch: clone\|container mounted" "$err"
check "enforcing: no loop device for a refused image" "$LOOPS0" "$(loops)"
check "enforcing: no mount for a refused image" ok "$(fewer "$MOUNTS0" "$(mounts)")"
out=$(ARCA_CONFIG=$SITE "$A" exec "$I" /bin/echo ran 2>/dev/null)
check "enforcing: the same policy lets another image run" "ran/0" "$out/$?"
out=$(ARCA_CONFIG=$SITE "$A" policy launch "$T/denied.sif")
check "policy launch: refused, exit 1" 1 $?
contains "policy launch: prints the deny reason" "^deny: image '$T/denied.sif' is on the site's deny list$" "$out"
contains "policy launch: prints allowed: false" "^allowed: false$" "$out"
contains "policy launch: prints the reason" "^reason: denied: " "$out"

out=$(ARCA_CONFIG=$PERM "$A" exec "$T/denied.sif" /bin/echo ran 2>"$T/err")
check "permissive: the denied image runs" "ran/0" "$out/$?"
contains "permissive: what would have been refused is printed" "warning: launch policy (permissive mode) would refuse this launch: image '$T/denied.sif' is on the site's deny list" "$(cat "$T/err")"
contains "permissive: warnings are printed" "warning: launch policy: site policy in use" "$(cat "$T/err")"
ARCA_CONFIG=$PERM "$A" policy launch "$T/denied.sif" >/dev/null
check "policy launch: permissive mode allows, exit 0" 0 $?

# ---------------------------------------------------------------- attested mode, no TPM
out=$(ARCA_CONFIG=$ATT "$A" exec "$I" /bin/echo ran 2>"$T/err")
check "attested: refused on a host without a TPM (255)" "/255" "$out/$?"
contains "attested: the reason is the missing attestation" "attested mode: the host has not passed attestation" "$(cat "$T/err")"
status=$(ARCA_CONFIG=$ATT "$A" policy launch --json "$I" | python3 -c 'import json,sys; a=json.load(sys.stdin)["input"]["host"]["attestation"]; print(a["status"], "no-tpm" in a["reason"])')
check "attested: input.host.attestation says unavailable, and why" "unavailable True" "$status"
host=$(ARCA_CONFIG=$DEFAULT "$A" policy launch --json "$I" | python3 -c 'import json,sys; print(json.load(sys.stdin)["input"]["host"])')
check "enforcing: the host is not probed (no attestation in the input)" "{'status': 'unavailable'}" "$host"

# attested mode with a TPM (swtpm, started and stopped by the attest
# tests' wrapper, which lives as long as $T/keep): passes against a
# reference state of this TPM's PCRs, refused against another one
if command -v swtpm >/dev/null && [ -x "${ARCA_SRC:-}/tests/attest/swtpm.sh" ]; then
	touch "$T/keep"
	"$ARCA_SRC/tests/attest/swtpm.sh" bash -c 'echo "$ARCA_TPM_TCTI" >"$1.new" && mv "$1.new" "$1"; while [ -e "$2" ]; do sleep 0.1; done' \
		_ "$T/tcti" "$T/keep" >/dev/null 2>&1 &
	SWTPM=$!
	for _ in $(seq 100); do [ -s "$T/tcti" ] && break; sleep 0.1; done
	if [ -s "$T/tcti" ]; then
		TCTI=$(cat "$T/tcti")
		"$A" attest refstate --tcti "$TCTI" --pcrs sha256:0-10 -o "$T/ref-tpm.json" >/dev/null 2>&1
		sed 's/"0": "0*"/"0": "'"$(printf 'ab%.0s' $(seq 32))"'"/' "$T/ref-tpm.json" >"$T/ref-other.json"
		ATTOK=$(cfg attok attested "$T/empty" "[attest]" "tcti = \"$TCTI\"" "refstate = \"$T/ref-tpm.json\"")
		ATTBAD=$(cfg attbad attested "$T/empty" "[attest]" "tcti = \"$TCTI\"" "refstate = \"$T/ref-other.json\"")
		out=$(HOME=$T ARCA_CONFIG=$ATTOK "$A" exec "$I" /bin/echo ran 2>"$T/err")
		check "attested, swtpm: a host whose quote matches its reference state runs the image" "ran/0" "$out/$?"
		out=$(HOME=$T ARCA_CONFIG=$ATTOK "$A" policy launch "$I")
		contains "attested, swtpm: policy launch shows the attestation passed" "^host attestation: passed$" "$out"
		out=$(HOME=$T ARCA_CONFIG=$ATTBAD "$A" exec "$I" /bin/echo ran 2>"$T/err")
		check "attested, swtpm: another reference state refuses (255)" "/255" "$out/$?"
		contains "attested, swtpm: ... naming the PCR that differs" "host attestation failed: .*sha256 PCR 0 is 0*, expected abab" "$(cat "$T/err")"
	else
		skip "attested mode with swtpm" "swtpm did not start"
	fi
	rm -f "$T/keep"
	wait "$SWTPM"
else
	skip "attested mode with swtpm" "no swtpm"
fi

# ---------------------------------------------------------------- a policy that fails
out=$(ARCA_CONFIG=$BROKEN "$A" exec "$I" /bin/echo ran 2>"$T/err")
check "a policy error refuses in enforcing mode (255)" "/255" "$out/$?"
contains "the policy error is named" "refused by the launch policy (enforcing mode): policy error: .*eval_conflict_error" "$(cat "$T/err")"
out=$(ARCA_CONFIG=$T/missing.toml "$A" exec "$I" /bin/echo ran 2>"$T/err")
check "a configuration that is named but missing refuses (255)" "/255" "$out/$?"
printf 'mode = "enforcing"\n[policy]\ndri = "x"\n' >"$T/bad.toml"
out=$(ARCA_CONFIG=$T/bad.toml "$A" exec "$I" /bin/echo ran 2>"$T/err")
check "a malformed configuration refuses (255)" "/255" "$out/$?"

# ---------------------------------------------------------------- --json
out=$(ARCA_CONFIG=$SITE "$A" policy launch --json "$T/denied.sif" /bin/true)
check "policy launch --json: exit 1 when refused" 1 $?
got=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["decision"]["allowed"], d["decision"]["mode"], d["decision"]["deny"][0].startswith("image "), d["input"]["image"]["path"] == sys.argv[1], d["input"]["request"]["args"])' "$T/denied.sif")
check "policy launch --json: parses, holds the decision and its input" "False enforcing True True ['/bin/true']" "$got"

# ---------------------------------------------------------------- decision log
L="$T/log/site.log"
rm -f "$L"
for img in "$I" "$T/denied.sif" "$I"; do ARCA_CONFIG=$SITE "$A" exec "$img" /bin/true 2>/dev/null; done
entries=3
out=$("$A" policy log verify "$L")
check "log verify: every decision was logged, the chain is intact" "$entries entries, chain intact/0" "$out/$?"
check "log: three decisions, the refusal logged as one" "true false true" "$(python3 -c 'import json,sys; print(*[str(json.loads(l)["entry"]["allowed"]).lower() for l in open(sys.argv[1])])' "$L")"
check "log: created 0600" 600 "$(stat -c %a "$L")"
cp "$L" "$T/saved.log"
sed -i '2s/"mode":"enforcing"/"mode":"permissive"/' "$L"
out=$("$A" policy log verify "$L" 2>&1)
check "log verify: an edited line fails (exit 1)" 1 $?
contains "log verify: ... and is named" "line 2 was modified" "$out"
cp "$T/saved.log" "$L"
sed -i '2d' "$L"
out=$("$A" policy log verify "$L" 2>&1)
check "log verify: a deleted line fails (exit 1)" 1 $?
contains "log verify: ... and the gap is named" "line 2 does not follow line 1" "$out"
cp "$T/saved.log" "$L"
out=$("$A" policy log verify "$L")
check "log verify: the restored log verifies again" "$entries entries, chain intact" "$out"
"$A" policy log verify 2>/dev/null
check "log verify: usage error without a file (2)" 2 $?

# a log that cannot be appended to (its last line is not an entry)
cp "$T/saved.log" "$T/log/site.log"
echo 'not a decision' >>"$T/log/site.log"
out=$(ARCA_CONFIG=$SITE "$A" exec "$I" /bin/echo ran 2>"$T/err")
check "root, enforcing: a decision that cannot be logged refuses (255)" "/255" "$out/$?"
contains "root, enforcing: ... saying so" "could not be logged" "$(cat "$T/err")"
cp "$T/log/site.log" "$T/log/perm.log"
out=$(ARCA_CONFIG=$PERM "$A" exec "$I" /bin/echo ran 2>"$T/err")
check "root, permissive: the launch goes on" "ran/0" "$out/$?"
contains "root, permissive: ... with a warning" "warning: launch policy: the decision was not logged" "$(cat "$T/err")"

# an unprivileged user who may not write the site's log
U="setpriv --reuid 65534 --regid 65534 --clear-groups"
if ! $U unshare -U true 2>/dev/null; then
	skip "unprivileged launches" "user namespaces unavailable for uid 65534"
else
	mkdir -p "$T/rootonly"
	chmod 700 "$T/rootonly"
	USR=$(cfg user enforcing "$T/site")
	sed -i "s|^decision_log = .*|decision_log = \"$T/rootonly/decisions.log\"|" "$USR"
	chmod 644 "$T"/*.toml
	chmod -R a+rX "$T/site" "$T/empty"
	out=$(cd / && ARCA_CONFIG=$USR $U "$A" exec "$I" /bin/id -u 2>"$T/err")
	check "user, enforcing: an unwritable log does not stop the launch" "65534/0" "$out/$?"
	contains "user, enforcing: ... but is warned about" "warning: launch policy: the decision was not logged: .*Permission denied" "$(cat "$T/err")"
	out=$(cd / && ARCA_CONFIG=$USR $U "$A" exec "$T/denied.sif" /bin/id -u 2>"$T/err")
	check "user, enforcing: the policy still refuses a denied image" "/255" "$out/$?"
fi

echo "1..$n"
[ $fails = 0 ]
