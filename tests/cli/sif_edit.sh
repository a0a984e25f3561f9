#!/usr/bin/env bash
# arca sif new|add|del|setprim: edits produce valid images, failed edits
# leave the image and its directory untouched (TAP output).
set -u
A=${ARCA_BUILD}/cmd/arca/arca
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi; }
cd "$T"
printf 'Bootstrap: docker\nFrom: alpine\n' >def
head -c 10000 /dev/urandom >part
echo '{"a":1}' >j

ok "new creates an empty image" '"$A" sif new img.sif && [ "$("$A" sif list --json img.sif)" = "[]" ]'
ok "new --help prints usage and creates nothing" '"$A" sif new --help | grep -q "arca sif new" && [ ! -e --help ]'
ok "unknown flags are refused" '! "$A" sif list --bogus img.sif 2>/dev/null'
ok "add deffile, partition and JSON" '"$A" sif add --datatype 1 --groupid 1 img.sif def &&
  "$A" sif add --datatype 4 --parttype 1 --partfs 4 --partarch 2 --groupid 1 img.sif part &&
  "$A" sif add --datatype 6 img.sif j'
ok "list shows three objects with their groups" '[ "$("$A" sif list --json img.sif | python3 -c "import json,sys; print([(d[\"id\"], d[\"group\"]) for d in json.load(sys.stdin)])")" = "[(1, 1), (2, 1), (3, None)]" ]'
ok "partition data is 4096-aligned and reads back" '"$A" sif dump 2 img.sif | cmp - part &&
  [ $(( $("$A" sif info --json 2 img.sif | python3 -c "import json,sys; print(json.load(sys.stdin)[\"offset\"])") % 4096 )) -eq 0 ]'
ok "setprim makes the partition primary and sets the header arch" '"$A" sif setprim 2 img.sif &&
  "$A" sif header --json img.sif | python3 -c "import json,sys; h=json.load(sys.stdin); assert h[\"primary_arch\"]==\"amd64\", h"'
sum=$(sha256sum img.sif)
ok "a failed add leaves the image byte-identical and no temporary file" '! "$A" sif add --datatype 7 img.sif missing 2>/dev/null &&
  [ "$(sha256sum img.sif)" = "$sum" ] && [ "$(ls | sort | tr "\n" " ")" = "def img.sif j part " ]'
ok "a second primary partition is refused" '! "$A" sif add --datatype 4 --parttype 2 --partfs 1 --partarch 2 img.sif part 2>/dev/null &&
  [ "$(sha256sum img.sif)" = "$sum" ]'
ok "del --zero --compact of the last object shrinks the file" 'before=$(stat -c %s img.sif) && "$A" sif del --zero --compact 3 img.sif &&
  [ "$(stat -c %s img.sif)" -lt "$before" ] && [ "$("$A" sif list --json img.sif | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 2 ]'
ok "del of a missing object fails" '! "$A" sif del 9 img.sif 2>/dev/null'
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
  cp img.sif ro.sif && chown nobody ro.sif && chmod 444 ro.sif && chmod 755 "$T"
  ok "an image the caller may not write is not replaced" '! setpriv --reuid nobody --regid nogroup --clear-groups "$A" sif del 1 ro.sif 2>/dev/null &&
    [ "$(stat -c %U:%a ro.sif)" = "nobody:444" ] && cmp -s ro.sif img.sif'
  chmod 644 ro.sif
  ok "an administrator's edit keeps the owner" '"$A" sif del 1 ro.sif && [ "$(stat -c %U ro.sif)" = nobody ]'
fi
echo "1..$n"
[ $failed -eq 0 ]
