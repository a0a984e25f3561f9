#!/bin/sh
# arca serve: OPA Data API answers (result, undefined, errors). Prints TAP.
set -u
arca="$ARCA_BUILD/cmd/arca/arca"
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0
fail=0
check() {
	n=$((n + 1))
	if [ "$2" = "$3" ]; then echo "ok $n - $1"; else fail=1; echo "not ok $n - $1"; echo "# got: $2"; echo "# want: $3"; fi
}
if ! command -v curl > /dev/null; then
	echo "1..0 # SKIP curl not installed"
	exit 0
fi
cat > "$tmp/p.rego" <<'R'
package arca

default allow := false

allow if input.user in data.users

deny contains "root" if input.user == "root"
R
echo '{"users": ["alice"]}' > "$tmp/data.json"
"$arca" serve -d "$tmp/p.rego" --data "$tmp/data.json" --port 0 > "$tmp/out" 2>&1 &
pid=$!
i=0
while ! grep -q listening "$tmp/out" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/out")
url="http://127.0.0.1:$port"

check "POST allow true" "$(curl -s -X POST "$url/v1/data/arca/allow" -d '{"input":{"user":"alice"}}')" '{"result":true}'
check "POST allow default" "$(curl -s -X POST "$url/v1/data/arca/allow" -d '{"input":{"user":"eve"}}')" '{"result":false}'
check "POST partial set" "$(curl -s -X POST "$url/v1/data/arca/deny" -d '{"input":{"user":"root"}}')" '{"result":["root"]}'
check "undefined is {}" "$(curl -s "$url/v1/data/arca/missing")" '{}'
check "GET base data" "$(curl -s "$url/v1/data/users")" '{"result":["alice"]}'
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/v1/data/arca/allow" -d 'not json')
check "malformed body is 400" "$code" "400"
check "path segments are quoted" "$(curl -s "$url/v1/data/arca/allow%5D%20or%20true")" '{}'
echo "1..$n"
exit $fail
