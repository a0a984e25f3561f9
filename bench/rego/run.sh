#!/bin/sh
# arca Rego benchmark: prepared-evaluation latency and one-shot CLI latency
# for a ~50-rule admission policy with a 1,000-entry data document.
#
#   bench/rego/run.sh [path/to/arca]
#
# OPA cannot be installed on this machine, so the figures are absolute; the
# issue's reference points are printed alongside. On a shared machine the
# mean wall time mostly measures the other tenants: the in-process figures
# also give the best round and the CPU time per evaluation, and the process
# figures are the best of several batches (each batch's mean over its runs).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
arca=${1:-$here/../../build/cmd/arca/arca}
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

# Rule indexing on equality: 100 rules that each start by testing input.kind;
# only the matching rule's body should run.
awk 'BEGIN {
	print "package many"
	for (i = 1; i <= 100; i++)
		printf "deny contains \"k%d\" if { input.kind == \"K%d\"; count(input.items) > 0; some x in input.items; startswith(x, \"a\") }\n", i, i
}' > "$tmp/many.rego"
echo '{"kind":"K50","items":["abc","def","axe"]}' > "$tmp/many.json"
echo "== equality index (100 rules keyed on input.kind, one matches; 20000 runs)"
"$arca" policy bench -d "$tmp/many.rego" -i "$tmp/many.json" -n 20000 data.many.deny

echo "== one-shot in process (read+parse policy and data, compile, evaluate; 200 runs)"
"$arca" policy bench --cold -n 200 -d "$here/admission.rego" --data "$tmp/data.json" -i "$here/input.json" \
	data.arca.admission.allow

# best_of BATCHES RUNS command...: the lowest mean (µs) over BATCHES batches
# of RUNS back-to-back runs; the clock is read once per batch, so the cost of
# reading it is spread over the batch.
best_of() {
	batches=$1 runs=$2
	shift 2
	best=
	b=0
	while [ $b -lt "$batches" ]; do
		start=$(date +%s%N)
		i=0
		while [ $i -lt "$runs" ]; do
			"$@" > /dev/null 2>&1 || true
			i=$((i + 1))
		done
		end=$(date +%s%N)
		us=$(( (end - start) / runs / 1000 ))
		if [ -z "$best" ] || [ "$us" -lt "$best" ]; then
			best=$us
		fi
		b=$((b + 1))
	done
	echo "$best"
}

echo "== process spawn floor of this machine (/bin/true; best of 10 batches of 10 runs)"
echo "$(best_of 10 10 /bin/true) µs per start-up"

echo "== bare process start-up of arca (no work; best of 10 batches of 10 runs)"
echo "$(best_of 10 10 "$arca") µs per start-up"

echo "== one-shot CLI (process start-up, parse, compile, evaluate; best of 10 batches of 10 runs)"
echo "$(best_of 10 10 "$arca" policy eval -d "$here/admission.rego" --data "$tmp/data.json" \
	-i "$here/input.json" --format raw data.arca.admission.allow) µs per one-shot evaluation"

echo "decision: $("$arca" policy eval -d "$here/admission.rego" --data "$tmp/data.json" -i "$here/input.json" --format raw data.arca.admission.decision)"
echo "goal (issue 5): < 5 µs prepared, < 3 ms one-shot (< 1.5 ms of it in process); published: OPA 30-90 µs, regorus 2-5 µs prepared"
