#!/bin/sh
# arca Rego benchmark: prepared-evaluation latency and one-shot CLI latency
# for a ~50-rule admission policy with a 1,000-entry data document.
#
#   bench/rego/run.sh [path/to/arca]
#
# OPA cannot be installed on this machine, so the figures are absolute; the
# issue's reference points are printed alongside.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
arca=${1:-$here/../../build-rego/cmd/arca/arca}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/gen-data.sh" > "$tmp/data.json"
echo "policy: $(grep -cE '^[a-z_]+.*( if |:=)' "$here/admission.rego") rules; data: $(wc -c < "$tmp/data.json") bytes"

echo "== prepared evaluation (data.arca.admission.decision, 20000 runs)"
"$arca" policy bench -d "$here/admission.rego" --data "$tmp/data.json" -i "$here/input.json" -n 20000 \
	data.arca.admission.decision
echo "== prepared evaluation (data.arca.admission.allow, 20000 runs)"
"$arca" policy bench -d "$here/admission.rego" --data "$tmp/data.json" -i "$here/input.json" -n 20000 \
	data.arca.admission.allow

echo "== one-shot in process (read+parse policy and data, compile, evaluate; 200 runs)"
"$arca" policy bench --cold -n 200 -d "$here/admission.rego" --data "$tmp/data.json" -i "$here/input.json" \
	data.arca.admission.allow

echo "== bare process start-up of arca (no work; 50 runs)"
start=$(date +%s%N)
i=0
while [ $i -lt 50 ]; do
	"$arca" > /dev/null 2>&1 || true
	i=$((i + 1))
done
end=$(date +%s%N)
echo "50 runs: $(( (end - start) / 50 / 1000 )) µs per start-up"

echo "== one-shot CLI (process start-up, parse, compile, evaluate; 50 runs)"
n=50
start=$(date +%s%N)
i=0
while [ $i -lt $n ]; do
	"$arca" policy eval -d "$here/admission.rego" --data "$tmp/data.json" -i "$here/input.json" \
		--format raw data.arca.admission.allow > /dev/null
	i=$((i + 1))
done
end=$(date +%s%N)
echo "$n runs: $(( (end - start) / n / 1000 )) µs per one-shot evaluation"
echo "decision: $("$arca" policy eval -d "$here/admission.rego" --data "$tmp/data.json" -i "$here/input.json" --format raw data.arca.admission.decision)"
echo "goal (issue 5): < 5 µs prepared, < 3 ms one-shot; published: OPA 30-90 µs, regorus 2-5 µs prepared"
