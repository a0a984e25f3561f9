#!/usr/bin/env bash
# Seeds the SIF fuzzer with the reference fixture images (read from the
# shared fixtures beside the checkout, never copied into the repository).
set -eu
out=$1
shared=${ARCA_SHARED:-$(dirname "$0")/../../../shared}
mkdir -p "$out"
for f in "$shared"/fixtures/sif/test/images/*.sif "$shared"/fixtures/sif/pkg/sif/testdata/*/*.golden; do
	[ -f "$f" ] || continue
	# Large images slow libFuzzer down without adding structure.
	[ "$(stat -c %s "$f")" -le 400000 ] && cp "$f" "$out/"
done
true
