#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# arca sign/verify end to end: every fixture signed image verifies, arca's
# own signatures verify with stock gpg and openssl, and tampering with any
# signed region (or the signature) is refused with a precise reason.
# Prints TAP. Everything lives in a temporary directory, and every gpg-agent
# started for its keyrings is stopped at the end.
set -u

A="$ARCA_BUILD/cmd/arca/arca"
I="$ARCA_SHARED/fixtures/sif/test/images"
K="$ARCA_SHARED/fixtures/sif/test/keys"
T=$(mktemp -d /tmp/arca-integrity.XXXXXX)
HOMES=()
cleanup() {
	for h in "${HOMES[@]}"; do gpgconf --homedir "$h" --kill all >/dev/null 2>&1; done
	rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../tap.sh"

# newhome DIR: a private GNUPGHOME with the reference test key.
newhome() {
	mkdir -p -m 700 "$1"
	HOMES+=("$1")
}

export ARCA_KEYDIR="$T/keys"
HOMES+=("$ARCA_KEYDIR/gnupg")
"$A" key import "$K/private.asc" >/dev/null 2>&1

# expect_ok NAME CMD...
expect_ok() {
	local name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else
		notok "$name"
		echo "$out" | sed 's/^/# /'
	fi
}
# expect_fail NAME PATTERN CMD...: must fail and say PATTERN.
expect_fail() {
	local name=$1 pat=$2
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

# flip FILE OFFSET: xor one byte with 0x01.
flip() {
	local v
	v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	v=$((v ^ 1))
	printf "\\$(printf %03o "$v")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# put32 FILE OFFSET VALUE: little-endian store.
put32() {
	local v=$3 i
	for i in 0 1 2 3; do
		printf "\\$(printf %03o $(((v >> (8 * i)) & 255)))"
	done | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# objoff FILE ID: data offset of object ID (from arca sif info).
objoff() { "$A" sif info "$2" "$1" | awk '/Offset:/ { print $2 }'; }
DESC=4096
DSZ=585

# The fixtures must come out of this test byte for byte as they went in.
sums_before=$(cd "$I" && sha256sum ./*.sif)

# ---------------------------------------------------------- fixtures
for img in one-group two-groups; do
	expect_ok "fixture $img-signed-dsse verifies with ed25519" "$A" verify --key "$K/ed25519-public.pem" "$I/$img-signed-dsse.sif"
	expect_ok "fixture $img-signed-dsse verifies with rsa" "$A" verify --key "$K/rsa-public.pem" "$I/$img-signed-dsse.sif"
	expect_fail "fixture $img-signed-dsse refuses an untrusted key" "no signature in the envelope verifies" \
		"$A" verify --key "$K/ecdsa-public.pem" "$I/$img-signed-dsse.sif"
	expect_ok "fixture $img-signed-pgp verifies" "$A" verify "$I/$img-signed-pgp.sif"
	expect_ok "fixture $img-signed-legacy verifies (--legacy-insecure)" "$A" verify --legacy-insecure "$I/$img-signed-legacy.sif"
	expect_ok "fixture $img-signed-legacy-group verifies (-g 1)" "$A" verify --legacy-insecure -g 1 "$I/$img-signed-legacy-group.sif"
	expect_ok "fixture $img-signed-legacy-all verifies (-i 1 -i 2)" "$A" verify --legacy-insecure -i 1 -i 2 "$I/$img-signed-legacy-all.sif"
	expect_fail "fixture $img-signed-legacy needs --legacy-insecure" "signature not found for object group 1" \
		"$A" verify "$I/$img-signed-legacy.sif"
	expect_fail "unsigned $img refused" "signature not found for object group 1" "$A" verify --key "$K/ed25519-public.pem" "$I/$img.sif"
done
expect_ok "fixture one-group-signed-legacy-all verifies (--all)" "$A" verify --legacy-insecure --all "$I/one-group-signed-legacy-all.sif"
# The two-groups legacy fixtures sign group 1 only: group 2 must not pass.
expect_fail "two-groups-signed-legacy-all: object 3 unsigned (--all)" "signature not found for object 3" \
	"$A" verify --legacy-insecure --all "$I/two-groups-signed-legacy-all.sif"
expect_fail "two-groups-signed-legacy-group: group 2 unsigned (-g 2)" "signature not found for object group 2" \
	"$A" verify --legacy-insecure -g 2 "$I/two-groups-signed-legacy-group.sif"
expect_ok "object subset verifies (-i 2)" "$A" verify --key "$K/ed25519-public.pem" -i 2 "$I/two-groups-signed-dsse.sif"

# A keyring without the signer refuses PGP signatures.
newhome "$T/empty/gnupg"
expect_fail "pgp fixture refused by a keyring without the key" "not in the keyring" \
	env ARCA_KEYDIR="$T/empty" "$A" verify "$I/one-group-signed-pgp.sif"

# --json: per-object results and the signer's fingerprint.
out=$("$A" verify --json "$I/two-groups-signed-pgp.sif" 2>/dev/null)
if echo "$out" | grep -q '"verified":true' && echo "$out" | grep -q '"fingerprint":"12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"' &&
	echo "$out" | grep -q '"signers":\["12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"\]' &&
	echo "$out" | grep -q '{"id":3,"group":2,"type":"FS","verified":true}'; then ok "verify --json"; else
	notok "verify --json"
	echo "# $out"
fi

# ------------------------------------------------- arca's own signatures
# Deterministic keys on deterministic images: arca reproduces the
# reference's signed fixtures byte for byte.
for img in one-group two-groups; do
	cp "$I/$img.sif" "$T/repro.sif"
	chmod u+w "$T/repro.sif"
	"$A" -q sign --key "$K/ed25519-private.pem" --key "$K/rsa-private.pem" "$T/repro.sif"
	if cmp -s "$T/repro.sif" "$I/$img-signed-dsse.sif"; then ok "arca sign reproduces $img-signed-dsse.sif byte for byte"; else
		notok "arca sign reproduces $img-signed-dsse.sif byte for byte"
		cmp -l "$T/repro.sif" "$I/$img-signed-dsse.sif" | head -5 | sed 's/^/# /'
	fi
done

cp "$I/two-groups.sif" "$T/d.sif"
expect_ok "sign with ed25519 + rsa + ecdsa PEM keys (DSSE)" "$A" sign --key "$K/ed25519-private.pem" --key "$K/rsa-private.pem" --key "$K/ecdsa-private.pem" "$T/d.sif"
for k in ed25519 rsa ecdsa; do
	expect_ok "own DSSE signature verifies with $k" "$A" verify --key "$K/$k-public.pem" "$T/d.sif"
done
# Stock openssl over DSSE's pre-authentication encoding.
"$A" sif dump 4 "$T/d.sif" >"$T/env.json"
pt=$(sed 's/.*"payloadType":"\([^"]*\)".*/\1/' "$T/env.json")
sed 's/.*"payload":"\([^"]*\)".*/\1/' "$T/env.json" | base64 -d >"$T/payload"
{ printf 'DSSEv1 %d %s %d ' "${#pt}" "$pt" "$(stat -c %s "$T/payload")"; cat "$T/payload"; } >"$T/pae"
i=0
for sig in $(grep -o '"sig":"[^"]*"' "$T/env.json" | cut -d'"' -f4); do
	echo "$sig" | base64 -d >"$T/sig$i"
	i=$((i + 1))
done
expect_ok "openssl pkeyutl verifies arca's Ed25519 DSSE signature" openssl pkeyutl -verify -pubin -inkey "$K/ed25519-public.pem" -rawin -in "$T/pae" -sigfile "$T/sig0"
expect_ok "openssl verifies arca's RSA DSSE signature" openssl dgst -sha256 -verify "$K/rsa-public.pem" -signature "$T/sig1" "$T/pae"
expect_ok "openssl verifies arca's ECDSA DSSE signature" openssl dgst -sha256 -verify "$K/ecdsa-public.pem" -signature "$T/sig2" "$T/pae"
if cmp -s "$T/payload" <(printf '%s' "$(cat "$T/payload")"); then ok "DSSE payload is metadata JSON"; else notok "DSSE payload is metadata JSON"; fi

cp "$I/one-group.sif" "$T/pss.sif"
expect_ok "sign with RSA-PSS" "$A" sign --rsa-pss --key "$K/rsa-private.pem" "$T/pss.sif"
expect_ok "RSA-PSS DSSE signature verifies" "$A" verify --key "$K/rsa-public.pem" "$T/pss.sif"
"$A" sif dump 3 "$T/pss.sif" >"$T/pss.json"
pt=$(sed 's/.*"payloadType":"\([^"]*\)".*/\1/' "$T/pss.json")
sed 's/.*"payload":"\([^"]*\)".*/\1/' "$T/pss.json" | base64 -d >"$T/pss.payload"
{ printf 'DSSEv1 %d %s %d ' "${#pt}" "$pt" "$(stat -c %s "$T/pss.payload")"; cat "$T/pss.payload"; } >"$T/pss.pae"
grep -o '"sig":"[^"]*"' "$T/pss.json" | cut -d'"' -f4 | base64 -d >"$T/pss.sig"
expect_ok "openssl verifies arca's RSA-PSS DSSE signature" openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
	-sigopt rsa_pss_saltlen:-2 -verify "$K/rsa-public.pem" -signature "$T/pss.sig" "$T/pss.pae"
# (Never sign a fixture in place: always a copy in $T.)
cp "$I/one-group-signed-dsse.sif" "$T/ng.sif"
printf 'loose' >"$T/loose.bin"
"$A" sif add "$T/ng.sif" "$T/loose.bin" --datatype 7 >/dev/null 2>&1
expect_fail "objects outside any group cannot be signed" "invalid group ID 0" "$A" sign --key "$K/rsa-private.pem" -i 4 "$T/ng.sif"
expect_fail "ungrouped object refused" "object 4: non-signature object not associated with object group" \
	"$A" verify --key "$K/ed25519-public.pem" "$T/ng.sif"

cp "$I/two-groups.sif" "$T/p.sif"
expect_ok "sign with the OpenPGP keyring" "$A" sign "$T/p.sif"
expect_ok "own OpenPGP signature verifies" "$A" verify "$T/p.sif"
"$A" sif dump 5 "$T/p.sif" >"$T/p.asc"
expect_ok "gpg --verify accepts arca's clear-signed metadata" gpg --homedir "$ARCA_KEYDIR/gnupg" --batch --verify "$T/p.asc"
out=$("$A" sif info 5 "$T/p.sif")
if echo "$out" | grep -q 'Entity: *12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84'; then ok "signer fingerprint in the descriptor"; else notok "signer fingerprint in the descriptor"; fi
if echo "$out" | grep -q 'Hash Type: *SHA-256'; then ok "arca's keyring signs with SHA-256 (as the reference)"; else notok "arca's keyring signs with SHA-256 (as the reference)"; fi

cp "$I/two-groups.sif" "$T/sel.sif"
expect_ok "sign selected objects (-i 1 -i 3)" "$A" sign --key "$K/ed25519-private.pem" -i 1 -i 3 "$T/sel.sif"
expect_ok "selected object verifies (-i 1)" "$A" verify --key "$K/ed25519-public.pem" -i 1 "$T/sel.sif"
expect_fail "group with an unsigned object refused" "object 2: object not signed" "$A" verify --key "$K/ed25519-public.pem" "$T/sel.sif"

# ------------------------------------------------------------ tampering
base="$T/d.sif"
t() { cp "$base" "$T/x.sif"; }
V=("$A" verify --key "$K/ed25519-public.pem" "$T/x.sif")

t; flip "$T/x.sif" 5
expect_fail "tamper: launch script" "header integrity compromised" "${V[@]}"
t; flip "$T/x.sif" 50
expect_fail "tamper: image ID" "header integrity compromised" "${V[@]}"
t; flip "$T/x.sif" 44
expect_fail "tamper: version (covered by the header digest)" "header integrity compromised\|version" "${V[@]}"
t; flip "$T/x.sif" 33
expect_fail "tamper: magic" "header integrity compromised\|magic\|not a SIF" "${V[@]}"
for id in 1 2 3; do
	d=$((DESC + (id - 1) * DSZ))
	t; flip "$T/x.sif" $((d + 73))
	expect_fail "tamper: descriptor $id name" "data object descriptor integrity compromised: $id" "${V[@]}"
	t; flip "$T/x.sif" $((d + 41))
	expect_fail "tamper: descriptor $id creation time" "data object descriptor integrity compromised: $id" "${V[@]}"
	t; flip "$T/x.sif" $((d + 201))
	expect_fail "tamper: descriptor $id extra" "data object descriptor integrity compromised: $id" "${V[@]}"
	t; flip "$T/x.sif" $((d + 0))
	expect_fail "tamper: descriptor $id data type" "data object descriptor integrity compromised: $id" "${V[@]}"
	off=$(objoff "$base" "$id")
	t; flip "$T/x.sif" "$off"
	expect_fail "tamper: object $id data (first byte)" "data object integrity compromised: $id" "${V[@]}"
done
off=$(objoff "$base" 3)
t; flip "$T/x.sif" $((off + 200000))
expect_fail "tamper: object 3 data (middle)" "data object integrity compromised: 3" "${V[@]}"
# Signature bytes: inside the base64 signature, and inside the payload.
soff=$(objoff "$base" 4)
sigpos=$(grep -bo '"sig":"' "$T/env.json" | head -1 | cut -d: -f1)
t; flip "$T/x.sif" $((soff + sigpos + 20))
expect_fail "tamper: DSSE signature bytes" "signature object 4 not valid" "${V[@]}"
t; flip "$T/x.sif" $((soff + 120))
expect_fail "tamper: DSSE payload" "signature object 4 not valid" "${V[@]}"
# Descriptor of the signature: a wrong link leaves group 1 unsigned.
t; put32 "$T/x.sif" $((DESC + 3 * DSZ + 13)) $((0xf0000002))
expect_fail "tamper: signature relinked to another group" "signature not found for object group 1" "${V[@]}"
# Regrouping: object 3 moved into group 1 is not covered by group 1's signature.
t; put32 "$T/x.sif" $((DESC + 2 * DSZ + 9)) $((0xf0000001))
expect_fail "tamper: object moved into a signed group" "object 3: object not signed" "${V[@]}"
# Object taken out of every group.
t; put32 "$T/x.sif" $((DESC + 2 * DSZ + 9)) $((0xf0000000))
expect_fail "tamper: object removed from its group" "non-signature object not associated with object group" "${V[@]}"
# An unsigned object added to a signed group.
t; printf 'extra' >"$T/extra.bin"
"$A" sif add "$T/x.sif" "$T/extra.bin" --datatype 7 --groupid 1 >/dev/null 2>&1
expect_fail "tamper: unsigned object added to a signed group" "object 6: object not signed" "${V[@]}"
# A signature removed.
t; "$A" sif del 5 "$T/x.sif" >/dev/null 2>&1
expect_fail "tamper: group signature deleted" "signature not found for object group 2" "${V[@]}"
# Truncation.
t; truncate -s -1000 "$T/x.sif"
expect_fail "tamper: truncated image" "past the end\|truncated\|beyond\|outside" "${V[@]}"
t; truncate -s 4000 "$T/x.sif"
expect_fail "tamper: image truncated into the descriptor table" "descriptor\|past the end" "${V[@]}"

# Swapped signatures: group 2's signature from an image whose object 3
# differs.
cp "$I/two-groups.sif" "$T/other.sif"
flip "$T/other.sif" "$(objoff "$T/other.sif" 3)"
"$A" sign --key "$K/ed25519-private.pem" "$T/other.sif" >/dev/null 2>&1
cp "$I/two-groups.sif" "$T/victim.sif"
"$A" sign --key "$K/ed25519-private.pem" "$T/victim.sif" >/dev/null 2>&1
o5=$(objoff "$T/other.sif" 5)
v5=$(objoff "$T/victim.sif" 5)
dd if="$T/other.sif" of="$T/victim.sif" bs=1 skip="$o5" seek="$v5" count=1000 conv=notrunc status=none
expect_fail "tamper: signature swapped in from another image" "data object integrity compromised: 3" \
	"$A" verify --key "$K/ed25519-public.pem" "$T/victim.sif"

# OpenPGP: signed text altered; fingerprint in the descriptor altered.
base="$T/p.sif"
V=("$A" verify "$T/x.sif")
soff=$(objoff "$base" 4)
pos=$(grep -bo '"digest":"sha256:' "$T/p.asc" | head -1 | cut -d: -f1)
# Use group 1's signature text for the offset (same layout as group 2's).
"$A" sif dump 4 "$base" >"$T/p4.asc"
pos=$(grep -bo '"digest":"sha256:' "$T/p4.asc" | head -1 | cut -d: -f1)
t; flip "$T/x.sif" $((soff + pos + 20))
expect_fail "tamper: OpenPGP signed text" "signature object 4 not valid" "${V[@]}"
t; flip "$T/x.sif" $((DESC + 3 * DSZ + 201 + 4 + 3))
expect_fail "tamper: fingerprint in the signature descriptor" "fingerprint in descriptor does not correspond" "${V[@]}"
t; flip "$T/x.sif" $((soff + $(stat -c %s "$T/p4.asc") - 60))
expect_fail "tamper: OpenPGP signature packet" "signature object 4 not valid" "${V[@]}"

# Legacy signatures: object data and the signed digest text.
cp "$I/one-group-signed-legacy.sif" "$T/x.sif"
flip "$T/x.sif" "$(objoff "$T/x.sif" 2)"
expect_fail "tamper: legacy-signed object data" "data object integrity compromised: 2" "$A" verify --legacy-insecure "$T/x.sif"
cp "$I/one-group-signed-legacy-group.sif" "$T/x.sif"
flip "$T/x.sif" "$(objoff "$T/x.sif" 1)"
expect_fail "tamper: legacy group data" "data object integrity compromised (group 1)" "$A" verify --legacy-insecure -g 1 "$T/x.sif"
cp "$I/one-group-signed-legacy.sif" "$T/x.sif"
flip "$T/x.sif" $(($(objoff "$T/x.sif" 3) + 60))
expect_fail "tamper: legacy SIFHASH text" "signature object 3 not valid" "$A" verify --legacy-insecure "$T/x.sif"

# Forgery: a key that is not in the keyring signs the image.
newhome "$T/forger/gnupg"
gpg --homedir "$T/forger/gnupg" --batch --passphrase '' --quick-gen-key 'Forger <forger@example.org>' ed25519 sign never >/dev/null 2>&1
cp "$I/two-groups.sif" "$T/forged.sif"
ARCA_KEYDIR="$T/forger" "$A" sign "$T/forged.sif" >/dev/null 2>&1
expect_fail "forgery: OpenPGP signature by an unknown key" "not in the keyring" "$A" verify "$T/forged.sif"
# Forgery: the forger's signature wearing the trusted fingerprint.
fp=12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84
for g in 0 1; do
	for i in $(seq 0 19); do
		printf "\\$(printf %03o $((16#${fp:$((2 * i)):2})))"
	done | dd of="$T/forged.sif" bs=1 seek=$((DESC + (3 + g) * DSZ + 201 + 4)) conv=notrunc status=none
done
expect_fail "forgery: unknown key behind a trusted fingerprint" "not in the keyring\|fingerprint" "$A" verify "$T/forged.sif"
# Forgery: a DSSE envelope whose payload was replaced (signature kept).
cp "$I/one-group-signed-dsse.sif" "$T/fd.sif"
off=$(objoff "$T/fd.sif" 3)
flip "$T/fd.sif" $((off + 90))
expect_fail "forgery: DSSE payload replaced" "signature object 3 not valid" "$A" verify --key "$K/ed25519-public.pem" "$T/fd.sif"

# ------------------------------------------------- X.509 certificates
C="$T/ca"
mkdir -p "$C"
ossl() { openssl "$@" >/dev/null 2>&1; }
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >"$C/ca.ext"
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$C/code.ext"
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$C/server.ext"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/root.key" -out "$C/root.pem" \
	-subj /CN=arca-test-root -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/other.key" -out "$C/other.pem" \
	-subj /CN=arca-other-root -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/int.key" -out "$C/int.csr" -subj /CN=arca-test-int
ossl x509 -req -in "$C/int.csr" -CA "$C/root.pem" -CAkey "$C/root.key" -CAcreateserial -out "$C/int.pem" -days 30 -extfile "$C/ca.ext"
ossl req -new -key "$K/ed25519-private.pem" -out "$C/leaf.csr" -subj /CN=arca-test-signer
ossl x509 -req -in "$C/leaf.csr" -CA "$C/int.pem" -CAkey "$C/int.key" -CAcreateserial -out "$C/leaf.pem" -days 30 -extfile "$C/code.ext"
ossl x509 -req -in "$C/leaf.csr" -CA "$C/int.pem" -CAkey "$C/int.key" -CAcreateserial -out "$C/server.pem" -days 30 -extfile "$C/server.ext"
cp "$I/two-groups.sif" "$T/cert.sif"
"$A" sign --key "$K/ed25519-private.pem" "$T/cert.sif" >/dev/null 2>&1
expect_ok "certificate chain (leaf, intermediate, root) verifies" "$A" verify --certificate "$C/leaf.pem" \
	--certificate-intermediates "$C/int.pem" --certificate-roots "$C/root.pem" "$T/cert.sif"
expect_fail "certificate without its intermediate refused" "not trusted" "$A" verify --certificate "$C/leaf.pem" \
	--certificate-roots "$C/root.pem" "$T/cert.sif"
expect_fail "certificate under another root refused" "not trusted" "$A" verify --certificate "$C/leaf.pem" \
	--certificate-intermediates "$C/int.pem" --certificate-roots "$C/other.pem" "$T/cert.sif"
expect_fail "certificate without code-signing usage refused" "does not allow code signing" "$A" verify \
	--certificate "$C/server.pem" --certificate-intermediates "$C/int.pem" --certificate-roots "$C/root.pem" "$T/cert.sif"
expect_fail "certificate of another key refused" "no signature in the envelope verifies\\|does not allow digital signatures" "$A" verify \
	--certificate "$C/int.pem" --certificate-roots "$C/root.pem" "$T/cert.sif"

# ------------------------------------------- execution control (ecl)
E="$T/ecl"
mkdir -p "$E/white" "$E/strict" "$E/black" "$E/none"
ED=$(cd "$E" && pwd -P)
TFP=12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84
OFP=7064B1D6EFF01B1262FED3F03581D99FE87EAFD1
KID=SHA256:x6l8ZblpSSXGaPMCzySedWg88BwIFcz8jlPb6el0mFs
cat >"$E/ecl.toml" <<TOML
# arca test execution control list
activated = true
legacyinsecure = false

[[execgroup]]
  tagname = "white"
  mode = "whitelist"
  dirpath = "$ED/white"
  keyfp = ["$OFP", "$TFP", "$KID"]

[[execgroup]]
  tagname = "strict"
  mode = "whitestrict"
  dirpath = "$ED/strict"
  keyfp = ["$TFP",
           "$OFP",]

[[execgroup]]
  tagname = "black"
  mode = "blacklist"
  dirpath = "$ED/black"
  keyfp = ["$TFP"]
TOML
for d in white strict black none; do cp "$I/one-group-signed-pgp.sif" "$E/$d/pgp.sif"; done
cp "$I/one-group-signed-dsse.sif" "$E/white/dsse.sif"
cp "$I/one-group.sif" "$E/white/unsigned.sif"
cp "$I/one-group-signed-dsse.sif" "$E/black/dsse.sif"
expect_ok "ecl whitelist: listed OpenPGP signer runs" "$A" verify --ecl "$E/ecl.toml" "$E/white/pgp.sif"
expect_ok "ecl whitelist: listed DSSE key ID runs" "$A" verify --key "$K/ed25519-public.pem" --ecl "$E/ecl.toml" "$E/white/dsse.sif"
expect_fail "ecl whitelist: unlisted DSSE key refused" "not signed by any listed key" \
	"$A" verify --key "$K/rsa-public.pem" --ecl "$E/ecl.toml" "$E/white/dsse.sif"
expect_fail "ecl whitelist: unsigned image refused" "signature not found" "$A" verify --ecl "$E/ecl.toml" --key "$K/ed25519-public.pem" "$E/white/unsigned.sif"
expect_fail "ecl whitestrict: a listed key did not sign" "whitestrict.*not signed by $OFP" "$A" verify --ecl "$E/ecl.toml" "$E/strict/pgp.sif"
expect_fail "ecl blacklist: listed signer refused" "blacklist.*signed by" "$A" verify --ecl "$E/ecl.toml" "$E/black/pgp.sif"
expect_ok "ecl blacklist: other signer runs" "$A" verify --key "$K/ed25519-public.pem" --ecl "$E/ecl.toml" "$E/black/dsse.sif"
expect_fail "ecl: image outside every execution group refused" "not part of any execution group" "$A" verify --ecl "$E/ecl.toml" "$E/none/pgp.sif"
sed 's/^activated = true/activated = false/' "$E/ecl.toml" >"$E/off.toml"
expect_ok "ecl: deactivated list allows" "$A" verify --ecl "$E/off.toml" "$E/none/pgp.sif"
printf 'activated = true\n[[execgroup]]\n  mode = "greylist"\n' >"$E/bad.toml"
expect_fail "ecl: unknown mode refused" "mode must be" "$A" verify --ecl "$E/bad.toml" "$E/none/pgp.sif"
printf 'activated = yes\n' >"$E/bad2.toml"
expect_fail "ecl: malformed value refused" "line 1, column" "$A" verify --ecl "$E/bad2.toml" "$E/none/pgp.sif"
printf 'activated = "true"\n' >"$E/bad3.toml"
expect_fail "ecl: value of the wrong type refused" "activated must be true or false" "$A" verify --ecl "$E/bad3.toml" "$E/none/pgp.sif"
printf 'activated = true\nactivted = false\n' >"$E/bad4.toml"
expect_fail "ecl: misspelt key refused" "unknown top-level key" "$A" verify --ecl "$E/bad4.toml" "$E/none/pgp.sif"
printf 'activated = true\n[[execgroup]]\nmode = "blacklist"\ndirpath = "%s\\u0000x"\n' "$E/black" >"$E/bad5.toml"
expect_fail "ecl: a NUL inside a directory is refused" "without NUL" "$A" verify --ecl "$E/bad5.toml" "$E/black/pgp.sif"
# Any TOML spelling of the same list works: inline tables, literal strings.
printf "activated = true\nexecgroup = [ { tagname = 'b', mode = 'blacklist', dirpath = '%s', keyfp = [ '%s', ] } ]\n" "$E/black" "$TFP" >"$E/inline.toml"
expect_fail "ecl: inline-table spelling applies the same blacklist" "blacklist.*signed by" "$A" verify --ecl "$E/inline.toml" "$E/black/pgp.sif"

# ---------------------------------------------------------- arca key
export ARCA_KEYDIR="$T/kd"
newhome "$ARCA_KEYDIR/gnupg"
fpr=$(ARCA_SIGN_PASSPHRASE= "$A" key newpair --name "Arca Test" --email test@example.org --algo ed25519 </dev/null 2>/dev/null)
if [ ${#fpr} -eq 40 ]; then ok "key newpair (OpenPGP)"; else notok "key newpair (OpenPGP)"; fi
expect_ok "key import (OpenPGP)" "$A" key import "$K/private.asc"
out=$("$A" key list --secret 2>&1)
if echo "$out" | grep -q "$fpr" && echo "$out" | grep -q 12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84; then ok "key list --secret"; else notok "key list --secret"; fi
cp "$I/one-group.sif" "$T/k.sif"
expect_ok "sign with --fingerprint" "$A" sign --fingerprint "$fpr" "$T/k.sif"
out=$("$A" verify --json "$T/k.sif" 2>/dev/null)
if echo "$out" | grep -q "\"fingerprint\":\"$fpr\""; then ok "new key's fingerprint reported"; else notok "new key's fingerprint reported"; fi
"$A" key export "$fpr" >"$T/pub.asc" 2>/dev/null
if grep -q "BEGIN PGP PUBLIC KEY BLOCK" "$T/pub.asc"; then ok "key export"; else notok "key export"; fi
expect_ok "key remove" "$A" key remove "$fpr"
expect_fail "removed key no longer verifies" "not in the keyring" "$A" verify "$T/k.sif"
expect_ok "key import restores it" "$A" key import "$T/pub.asc"
expect_ok "re-imported key verifies" "$A" verify "$T/k.sif"
pfpr=$(ARCA_SIGN_PASSPHRASE=pw0rd "$A" key newpair --name "Protected" --algo ed25519 </dev/null 2>/dev/null)
gpgconf --homedir "$ARCA_KEYDIR/gnupg" --kill gpg-agent >/dev/null 2>&1
cp "$I/one-group.sif" "$T/prot.sif"
expect_fail "protected OpenPGP key: wrong passphrase refused" "signing failed" \
	env ARCA_SIGN_PASSPHRASE=wrong setsid "$A" sign --fingerprint "$pfpr" "$T/prot.sif"
expect_fail "protected OpenPGP key: no passphrase and no terminal refused" "signing failed" \
	env -u ARCA_SIGN_PASSPHRASE setsid "$A" sign --fingerprint "$pfpr" "$T/prot.sif"
expect_ok "protected OpenPGP key signs with ARCA_SIGN_PASSPHRASE" env ARCA_SIGN_PASSPHRASE=pw0rd "$A" sign --fingerprint "$pfpr" "$T/prot.sif"
expect_ok "protected key's signature verifies" "$A" verify "$T/prot.sif"
expect_ok "key newpair --pem (encrypted)" env ARCA_SIGN_PASSPHRASE=s3cret "$A" key newpair --pem "$T/pem" --type rsa
cp "$I/one-group.sif" "$T/pem.sif"
expect_fail "encrypted PEM refused without its passphrase" "wrong passphrase" env ARCA_SIGN_PASSPHRASE=wrong "$A" sign --key "$T/pem.key" "$T/pem.sif"
expect_ok "encrypted PEM signs with ARCA_SIGN_PASSPHRASE" env ARCA_SIGN_PASSPHRASE=s3cret "$A" sign --key "$T/pem.key" --hash sha384 "$T/pem.sif"
expect_ok "sha384 RSA DSSE signature verifies" "$A" verify --key "$T/pem.pub" "$T/pem.sif"
out=$("$A" sif info 2 "$T/pem.sif" 2>&1; "$A" sif info 3 "$T/pem.sif" 2>&1)
if echo "$out" | grep -q "SHA-384"; then ok "descriptor records SHA-384"; else notok "descriptor records SHA-384"; fi

if [ "$(cd "$I" && sha256sum ./*.sif)" = "$sums_before" ]; then ok "fixtures untouched"; else notok "fixtures untouched"; fi

echo "1..$n"
[ "$fails" -eq 0 ]
