#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# arca attest end to end against swtpm (run by swtpm.sh, which sets
# ARCA_TPM_TCTI and stops swtpm afterwards): keys, credential activation,
# quotes checked by arca and by tpm2_checkquote, log replay against the
# real PCRs, reference states, and every refusal with its reason. TAP.
set -u

A="$ARCA_BUILD/cmd/arca/arca"
G="$ARCA_BUILD/tests/attest/attest_gen"
T=$(mktemp -d /tmp/arca-attest-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
# never the user's own default AK
export ARCA_ATTEST_DIR="$T/default"

. "$(dirname "$0")/../tap.sh"

# expect_ok NAME CMD...
expect_ok() {
	local name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else
		notok "$name"
		echo "$out" | sed 's/^/# /'
	fi
}
# expect_fail NAME MESSAGE CMD...: exit 1 and MESSAGE in the output
expect_fail() {
	local name=$1 msg=$2
	shift 2
	out=$("$@" 2>&1)
	local rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$msg" <<<"$out"; then ok "$name"; else
		notok "$name (rc=$rc)"
		echo "$out" | sed 's/^/# /'
	fi
}

N1=00112233445566778899aabbccddeeff
N2=ffeeddccbbaa99887766554433221100

expect_ok "status sees the TPM" sh -c "'$A' attest status --json | grep -A3 '\"tpm\"' | grep -q '\"available\"'"
expect_ok "ek" "$A" attest ek --pub "$T/ek.pub" --pem "$T/ek.pem"
expect_ok "ek (ecc)" "$A" attest ek --ecc --pub "$T/ekc.pub"
expect_fail "no EK certificate in a bare swtpm" "no EK certificate at NV index 0x01c00002" \
	"$A" attest ek --pub "$T/x" --cert "$T/ek.der"
if command -v tpm2_nvdefine >/dev/null; then
	# an EK certificate as a manufacturer would store it (larger than one NV read)
	head -c 1100 /dev/urandom >"$T/cert.der"
	if tpm2_nvdefine 0x01c00002 -C o -s 1100 -a "ownerwrite|ownerread|authread|authwrite|no_da" >/dev/null 2>&1 &&
		tpm2_nvwrite 0x01c00002 -C o -i "$T/cert.der" >/dev/null 2>&1; then
		expect_ok "EK certificate from NV" "$A" attest ek --pub "$T/x" --cert "$T/ek-read.der"
		if cmp -s "$T/cert.der" "$T/ek-read.der"; then ok "EK certificate bytes"; else notok "EK certificate bytes"; fi
	else
		notok "define the EK certificate index with tpm2-tools"
	fi
fi
expect_ok "ak" "$A" attest ak --key "$T/ak.key" --pub "$T/ak.pub" --pem "$T/ak.pem"
expect_ok "second ak (ecc)" "$A" attest ak --ecc --key "$T/ak2.key" --pub "$T/ak2.pub" --pem "$T/ak2.pem"

# credential activation: the verifier needs no TPM
S=5ec2e7000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c
expect_ok "make credential" "$A" attest credential --ek "$T/ek.pub" --ak "$T/ak.pub" --secret $S -o "$T/cred.json"
if [ "$("$A" attest activate --key "$T/ak.key" --credential "$T/cred.json" 2>&1)" = "$S" ]; then
	ok "activate recovers the secret"
else notok "activate recovers the secret"; fi
expect_fail "AK not bound to the EK" "AK not bound to this EK" \
	"$A" attest activate --key "$T/ak2.key" --credential "$T/cred.json"
expect_ok "make credential for the ECC EK" "$A" attest credential --ek "$T/ekc.pub" --ak "$T/ak2.pub" --secret $S -o "$T/cred2.json"
if [ "$("$A" attest activate --ecc-ek --key "$T/ak2.key" --credential "$T/cred2.json" 2>&1)" = "$S" ]; then
	ok "activate with the ECC EK"
else notok "activate with the ECC EK"; fi
expect_fail "credential refuses an EK as AK" "attribute sign is not set" \
	"$A" attest credential --ek "$T/ek.pub" --ak "$T/ek.pub" --secret $S

# measured boot and IMA, extended into the real PCRs
"$G" evlog "$T/bios.bin" secureboot 3 0 "root=/dev/vda1 ro quiet"
"$G" evlog "$T/bios-bad.bin" secureboot 3 7 "root=/dev/vda1 ro quiet"
"$G" ima "$T/ima.bin" 500 "$T/ima.txt"
"$G" ima "$T/ima-long.bin" 501
"$G" ima "$T/ima-short.bin" 499
expect_ok "extend event log" "$G" extend-evlog "$T/bios.bin"
expect_ok "extend IMA list" "$G" extend-ima "$T/ima.bin"

expect_ok "quote" "$A" attest quote --key "$T/ak.key" --nonce $N1 --pcrs sha1:0-10+sha256:0-10 -o "$T/q1.json" \
	--message "$T/q1.msg" --signature "$T/q1.sig" --pcr-file "$T/q1.pcrs"
sleep 0.05
expect_ok "second quote" "$A" attest quote --key "$T/ak.key" --nonce $N2 --pcrs sha256:0-10 -o "$T/q2.json"
out=$("$A" attest quote --nonce $N1 --pcrs sha256:0-10 -o "$T/qd.json" 2>&1)
if [ -f "$T/default/ak.key" ] && grep -qF "created the attestation key" <<<"$out" &&
	"$A" attest quote --nonce $N2 --pcrs sha256:0 -o "$T/qd2.json" 2>&1 &&
	"$A" attest verify --ak "$T/default/ak.pub" --nonce $N1 "$T/qd.json" >/dev/null &&
	"$A" attest verify --ak "$T/default/ak.pem" --nonce $N2 "$T/qd2.json" >/dev/null; then
	ok "quote with the default AK (created on first use)"
else
	notok "quote with the default AK (created on first use)"
	echo "$out" | sed 's/^/# /'
fi
expect_ok "verify" "$A" attest verify --ak "$T/ak.pub" --nonce $N1 "$T/q1.json"
expect_ok "verify with a PEM AK" "$A" attest verify --ak "$T/ak.pem" --nonce $N1 "$T/q1.json"
expect_ok "verify the tpm2-tools files" "$A" attest verify --ak "$T/ak.pub" --nonce $N1 \
	--message "$T/q1.msg" --signature "$T/q1.sig" --pcr-file "$T/q1.pcrs"
if command -v tpm2_checkquote >/dev/null; then
	expect_ok "tpm2_checkquote accepts arca's quote files" tpm2_checkquote -u "$T/ak.pub" -m "$T/q1.msg" \
		-s "$T/q1.sig" -f "$T/q1.pcrs" -g sha256 -q $N1
fi
expect_ok "verify with logs" "$A" attest verify --ak "$T/ak.pub" --nonce $N1 --eventlog "$T/bios.bin" \
	--ima "$T/ima.bin" "$T/q1.json"
expect_ok "verify with the ASCII IMA list" "$A" attest verify --ak "$T/ak.pub" --nonce $N1 --ima "$T/ima.txt" "$T/q1.json"
expect_ok "newer quote after the previous one" "$A" attest verify --ak "$T/ak.pub" --nonce $N2 --previous "$T/q1.json" "$T/q2.json"

# the JSON report is a Rego input document
"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --eventlog "$T/bios.bin" --ima "$T/ima.bin" --json "$T/q1.json" >"$T/report.json"
cat >"$T/host.rego" <<'EOF'
package host
import rego.v1
default allow := false
allow if {
	input.verified
	input.eventlog.secureboot
	input.eventlog.kernel_cmdline == "root=/dev/vda1 ro quiet"
	input.ima.entries == 500
	every c in input.checks { c.status == "passed" }
}
EOF
if [ "$("$A" policy eval -d "$T/host.rego" -i "$T/report.json" --format raw data.host.allow 2>&1)" = "true" ]; then
	ok "report as Rego input"
else
	notok "report as Rego input"
	"$A" policy eval -d "$T/host.rego" -i "$T/report.json" data.host.allow 2>&1 | sed 's/^/# /'
fi

# refusals, each with its reason
expect_fail "wrong nonce" "nonce: the quote's qualifying data is not the expected nonce" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N2 "$T/q1.json"
expect_fail "wrong AK" "signature: " "$A" attest verify --ak "$T/ak2.pub" --nonce $N1 "$T/q1.json"
expect_fail "replayed quote (same one again)" "replayed quote (same nonce" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --previous "$T/q1.json" "$T/q1.json"
expect_fail "replayed quote (older one)" "is not after the previous quote" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --previous "$T/q2.json" "$T/q1.json"
python3 - "$T/q1.json" "$T/q1-pcr.json" <<'EOF'
import json, sys
q = json.load(open(sys.argv[1]))
v = q["pcrs"]["sha256"]["7"]
q["pcrs"]["sha256"]["7"] = ("0" if v[0] != "0" else "1") + v[1:]
json.dump(q, open(sys.argv[2], "w"))
EOF
expect_fail "changed PCR" "pcr_digest: the PCR values do not match the quoted digest" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 "$T/q1-pcr.json"
expect_fail "changed log entry" "eventlog: sha1 PCR 4 is" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --eventlog "$T/bios-bad.bin" "$T/q1.json"
expect_fail "IMA log longer than the PCR" "entries 501..501 (first '/usr/bin/prog500') are not in it" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --ima "$T/ima-long.bin" "$T/q1.json"
expect_fail "IMA log shorter than the PCR" "replay of 499 entries does not match the quote" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --ima "$T/ima-short.bin" "$T/q1.json"
head -c 100 "$T/q1.msg" >"$T/short.msg"
expect_fail "truncated TPMS_ATTEST" "TPMS_ATTEST: truncated PCR selection" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --message "$T/short.msg" --signature "$T/q1.sig" --pcr-file "$T/q1.pcrs"
head -c 50 "$T/q1.sig" >"$T/short.sig"
expect_fail "truncated TPMT_SIGNATURE" "TPMT_SIGNATURE: malformed RSA signature" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --message "$T/q1.msg" --signature "$T/short.sig" --pcr-file "$T/q1.pcrs"
head -c 300 "$T/q1.pcrs" >"$T/short.pcrs"
expect_fail "truncated PCR file" "PCR file: " \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --message "$T/q1.msg" --signature "$T/q1.sig" --pcr-file "$T/short.pcrs"
head -c 1000 "$T/bios.bin" >"$T/bios-trunc.bin"
expect_fail "truncated event log" "runs past the end" \
	"$A" attest verify --ak "$T/ak.pub" --nonce $N1 --eventlog "$T/bios-trunc.bin" "$T/q1.json"
printf 'not a quote' >"$T/bad.json"
expect_fail "malformed quote file" "quote: json" "$A" attest verify --ak "$T/ak.pub" --nonce $N1 "$T/bad.json"

# reference states
expect_ok "refstate" "$A" attest refstate --quote "$T/q1.json" --eventlog "$T/bios.bin" --ima "$T/ima.bin" -o "$T/ref.json"
expect_ok "check against the refstate" "$A" attest check --refstate "$T/ref.json" --key "$T/ak.key" \
	--eventlog "$T/bios.bin" --ima "$T/ima.bin"
expect_ok "verify against the refstate" "$A" attest verify --ak "$T/ak.pub" --nonce $N1 --refstate "$T/ref.json" \
	--eventlog "$T/bios.bin" --ima "$T/ima.bin" "$T/q1.json"
python3 - "$T/ref.json" "$T/ref-bad.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
del r["ima"]["allow"]["/usr/bin/prog42"]
r["ima"]["allow"]["/usr/bin/prog43"] = ["sha256:" + "00" * 32]
r["measured_boot"]["kernel_cmdline"] = "root=/dev/vda1 ro"
json.dump(r, open(sys.argv[2], "w"))
EOF
expect_fail "check names the failing IMA entries" "entry 43 '/usr/bin/prog42': not in the allow-list; entry 44 '/usr/bin/prog43': digest sha256:" \
	"$A" attest check --refstate "$T/ref-bad.json" --key "$T/ak.key" --eventlog "$T/bios.bin" --ima "$T/ima.bin"
expect_fail "check names the kernel command line" "kernel_cmdline: 'root=/dev/vda1 ro quiet' does not match 'root=/dev/vda1 ro'" \
	"$A" attest check --refstate "$T/ref-bad.json" --key "$T/ak.key" --eventlog "$T/bios.bin" --ima "$T/ima.bin"

# a host without TPM, event log or IMA: unavailable, never passed
out=$(ARCA_TPM_TCTI=device:/nonexistent/tpmrm0 "$A" attest check --refstate "$T/ref.json" --json 2>&1)
rc=$?
if [ $rc -eq 1 ] && ! grep -q '"passed"' <<<"$out" && [ "$(grep -c '"unavailable"' <<<"$out")" -eq 4 ]; then
	ok "no TPM: every check unavailable"
else
	notok "no TPM: every check unavailable (rc=$rc)"
	echo "$out" | sed 's/^/# /'
fi
out=$(ARCA_TPM_TCTI=device:/nonexistent/tpmrm0 "$A" attest status --eventlog /nonexistent --ima /nonexistent \
	--efivars /nonexistent --lockdown /nonexistent --json 2>&1)
if [ "$(grep -c '"unavailable"' <<<"$out")" -eq 5 ]; then ok "no TPM: status unavailable"; else
	notok "no TPM: status unavailable"
	echo "$out" | sed 's/^/# /'
fi

echo "1..$n"
[ $fails -eq 0 ]
