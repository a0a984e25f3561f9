#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs "$@" against a fresh swtpm: picks a free loopback port pair, starts
# swtpm with a new state directory, exports ARCA_TPM_TCTI (and
# TPM2TOOLS_TCTI) and stops swtpm — by its pid — however the command ends.
# Prints the command's TAP unchanged; exits with its status.
set -u

if ! command -v swtpm >/dev/null; then
	echo "1..0 # SKIP swtpm is not installed"
	exit 0
fi
STATE=$(mktemp -d /tmp/arca-swtpm.XXXXXX)
PID=
cleanup() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start PORT: swtpm listening on PORT (and PORT+1), or fails
start() {
	swtpm socket --tpm2 \
		--server type=tcp,port="$1",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$(($1 + 1)),bindaddr=127.0.0.1 \
		--tpmstate dir="$STATE" --flags not-need-init,startup-clear \
		>"$STATE/swtpm.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		kill -0 "$PID" 2>/dev/null || break
		port_free "$1" || return 0
		sleep 0.05
	done
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
	return 1
}

for try in 1 2 3 4 5 6 7 8; do
	PORT=$((20000 + (RANDOM * 7 + $$ + try * 101) % 40000))
	port_free "$PORT" && port_free $((PORT + 1)) || continue
	start "$PORT" && break
done
if [ -z "$PID" ]; then
	echo "Bail out! swtpm did not start"
	cat "$STATE/swtpm.log" >&2
	exit 1
fi
export ARCA_TPM_TCTI="swtpm:host=127.0.0.1,port=$PORT"
export TPM2TOOLS_TCTI="$ARCA_TPM_TCTI"
export ARCA_SWTPM_STATE="$STATE"
"$@"
