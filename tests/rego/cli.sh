#!/bin/sh
# arca policy CLI: eval output formats, test reporting, check failures.
# Prints TAP. Needs ARCA_BUILD (set by meson).
set -u
arca="$ARCA_BUILD/cmd/arca/arca"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1"; echo "# got: $2"; echo "# want: $3"; fi; }

mkdir -p "$tmp/p"
cat > "$tmp/p/policy.rego" <<'R'
package arca

default allow := false

allow if {
	input.image.registry in data.registries
	count(deny) == 0
}

deny contains msg if {
	input.user == "root"
	msg := sprintf("user %s not allowed", [input.user])
}

test_allow if allow with input as {"image": {"registry": "ghcr.io"}, "user": "bob"}
test_root_denied if not allow with input as {"image": {"registry": "ghcr.io"}, "user": "root"}
R
echo '{"registries": ["ghcr.io"]}' > "$tmp/p/data.json"
echo '{"image": {"registry": "ghcr.io"}, "user": "bob"}' > "$tmp/in.json"

out=$("$arca" policy eval -d "$tmp/p" -i "$tmp/in.json" --format raw data.arca.allow)
check "eval raw allow" "$out" "true"

out=$("$arca" policy eval -d "$tmp/p" -i "$tmp/in.json" --format raw 'x := count(data.arca.deny)')
check "eval raw bindings" "$out" '{"x":0}'

out=$("$arca" policy eval -d "$tmp/p" --format raw data.arca.nothing; echo "rc=$?")
check "eval undefined is empty" "$out" "rc=0"

out=$("$arca" policy eval -d "$tmp/p" -i "$tmp/in.json" data.arca.allow | tr -d ' \n')
check "eval json shape" "$out" '{"result":[{"expressions":[{"text":"data.arca.allow","value":true}]}]}'

out=$("$arca" policy test "$tmp/p")
check "test reports passes" "$out" "PASS: 2/2"

printf 'package arca\ntest_broken if false\n' > "$tmp/p/broken_test.rego"
"$arca" policy test "$tmp/p" > "$tmp/out" 2>&1
rc=$?
check "test fails with exit 1" "$rc" "1"
if grep -q "data.arca.test_broken: FAIL" "$tmp/out" && grep -q "FAIL: 1/3" "$tmp/out"; then ok "test names failures"; else notok "test names failures"; cat "$tmp/out" | sed 's/^/# /'; fi

printf 'package bad\np := [1,\n' > "$tmp/bad.rego"
"$arca" policy check "$tmp/bad.rego" > /dev/null 2> "$tmp/err"
rc=$?
check "check rejects syntax errors" "$rc" "1"
if grep -q "rego_parse_error" "$tmp/err"; then ok "check names the parse error"; else notok "check names the parse error"; fi

echo "1..$n"
exit $fail
