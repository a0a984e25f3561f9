#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Opt-in (ARCA_TEST_DEBIAN=1): a real distribution image. A Debian bookworm
# minbase root (debootstrap from the network, or an existing root given in
# ARCA_TEST_DEBIAN_ROOT) goes through `arca build`, then `arca exec` runs
# its shell, coreutils and dpkg as root and as an unprivileged user (FUSE
# root). Prints TAP with timings as diagnostics. Skipped by default: it
# needs the network and minutes.
set -u
A=${ARCA_BUILD:-build}/cmd/arca/arca
if [ "${ARCA_TEST_DEBIAN:-0}" != 1 ]; then
	echo "1..0 # SKIP opt-in: ARCA_TEST_DEBIAN=1 (needs debootstrap and the Debian mirror)"
	exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "1..0 # SKIP needs root and setpriv"
	exit 0
fi
T=$(mktemp -d /tmp/arca-debian.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"

ms() { echo $(((${2/./} - ${1/./}) / 1000)); }
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
echo "1..4"

R=${ARCA_TEST_DEBIAN_ROOT:-}
if [ -z "$R" ]; then
	if ! command -v debootstrap >/dev/null; then
		notok "debootstrap --variant=minbase bookworm # needs debootstrap"
		exit 1
	fi
	R=$T/root
	s=$EPOCHREALTIME
	if debootstrap --variant=minbase bookworm "$R" >"$T/debootstrap.log" 2>&1; then
		ok "debootstrap --variant=minbase bookworm ($(ms "$s" "$EPOCHREALTIME") ms)"
	else
		notok "debootstrap --variant=minbase bookworm"
		tail -5 "$T/debootstrap.log" | sed 's/^/# /'
		exit 1
	fi
else
	ok "root from ARCA_TEST_DEBIAN_ROOT=$R"
fi

s=$EPOCHREALTIME
if out=$("$A" build "$T/deb.sif" "$R" 2>&1); then
	ok "arca build ($(ms "$s" "$EPOCHREALTIME") ms): $out"
else
	notok "arca build"
	printf '%s\n' "$out" | tail -5 | sed 's/^/# /'
	exit 1
fi
chmod 644 "$T/deb.sif"

want=$(cat "$R/etc/debian_version")
probe='cat /etc/debian_version; id -u; dpkg-query -W -f "\${Package}\n" | wc -l; ls /usr/bin | wc -l'
for who in root unprivileged; do
	pre=()
	[ "$who" = unprivileged ] && pre=(setpriv --reuid 65534 --regid 65534 --clear-groups)
	s=$EPOCHREALTIME
	out=$(cd / && "${pre[@]}" "$A" exec "$T/deb.sif" /bin/sh -c "$probe" 2>&1)
	t=$(ms "$s" "$EPOCHREALTIME")
	first=$(printf '%s\n' "$out" | head -1)
	uid=$(printf '%s\n' "$out" | sed -n 2p)
	pkgs=$(printf '%s\n' "$out" | sed -n 3p)
	expect_uid=0
	[ "$who" = unprivileged ] && expect_uid=65534
	if [ "$first" = "$want" ] && [ "$uid" = "$expect_uid" ] && [ "${pkgs:-0}" -gt 50 ]; then
		ok "arca exec as $who ($t ms): Debian $first, $pkgs packages"
	else
		notok "arca exec as $who"
		printf '%s\n' "$out" | head -10 | sed 's/^/# /'
	fi
done
