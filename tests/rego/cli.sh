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

# opa eval reports a false value for a one-term query (its value is
# captured, rego.go rewriteQueryToCaptureValue), not an undefined result
echo '{"image": {"registry": "docker.io"}, "user": "bob"}' > "$tmp/in-denied.json"
out=$("$arca" policy eval -d "$tmp/p" -i "$tmp/in-denied.json" data.arca.allow | tr -d ' \n')
check "eval false value is a result" "$out" '{"result":[{"expressions":[{"text":"data.arca.allow","value":false}]}]}'
out=$("$arca" policy eval -d "$tmp/p" -i "$tmp/in-denied.json" --format raw data.arca.allow)
check "eval raw false" "$out" "false"
out=$("$arca" policy eval -d "$tmp/p" --format raw '1 > 2')
check "eval raw false comparison" "$out" "false"
# ...but an iterating query still drops its false values
out=$("$arca" policy eval -d "$tmp/p" --format raw '[false, true][i]')
check "eval iteration drops false" "$out" '{"i":1}'

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
