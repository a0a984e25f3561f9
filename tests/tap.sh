# SPDX-License-Identifier: Apache-2.0
# TAP helpers for the shell tests: source it, report with ok/notok/check/
# contains/skip, end with tap_end (the plan, and the status).
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check NAME WANT GOT
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		notok "$1"
		echo "# want: $2" | head -5
		echo "# got:  $3" | head -20 | sed '2,$s/^/# /'
	fi
}
# contains NAME PATTERN TEXT (a grep pattern)
contains() {
	if echo "$3" | grep -q -- "$2"; then ok "$1"; else
		notok "$1"
		echo "$3" | head -20 | sed 's/^/# /'
	fi
}
# lacks NAME PATTERN TEXT
lacks() {
	if ! echo "$3" | grep -q -- "$2"; then ok "$1"; else
		notok "$1"
		echo "$3" | head -20 | sed 's/^/# /'
	fi
}
tap_end() {
	echo "1..$n"
	[ "$fails" = 0 ]
}
