#!/usr/bin/env bash
# arca sif header|list|info|dump must print exactly what the reference
# siftool printed for the fixture images (TAP output).
set -u
A=${ARCA_BUILD}/cmd/arca/arca
F=${ARCA_SHARED}/fixtures/sif
G=$F/internal/app/siftool/testdata
I=$F/test/images
n=0; failed=0
check() { # description, golden, command...
  local desc=$1 golden=$2; shift 2
  n=$((n + 1))
  if out=$("$@" 2>&1 | od -An -tx1) && [ "$out" = "$(od -An -tx1 <"$golden")" ]; then
    echo "ok $n - $desc"
  else
    echo "not ok $n - $desc"; failed=$((failed + 1))
    diff <("$@" 2>&1) "$golden" | head -20 | sed 's/^/# /'
  fi
}
# TestApp test names map to image file names: OneGroupSignedPGP -> one-group-signed-pgp.sif
image_of() {
  echo "$1" | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g; s/([A-Z])([A-Z][a-z])/\1-\2/g' | tr 'A-Z' 'a-z' | sed 's/-i-d$/-id/'
}
for verb in Header List; do
  for g in "$G/TestApp_$verb"/*.golden; do
    name=$(basename "$g" .golden)
    check "sif ${verb,,} $name" "$g" "$A" sif "${verb,,}" "$I/$(image_of "$name").sif"
  done
done
while read -r name image id; do
  check "sif info $name" "$G/TestApp_Info/$name.golden" "$A" sif info "$id" "$I/$image.sif"
done <<'LIST'
CryptMessage one-object-crypt-message 1
DataPartitionEXT3 two-groups 3
DataPartitionRaw one-group 1
DataPartitionSquashFS one-group 2
DataSignature two-groups-signed-pgp 4
GenericJSON one-object-generic-json 1
OCIBlob one-object-oci-blob 1
OCIRootIndex one-object-oci-root-index 1
SBOM one-object-sbom 1
Time one-object-time 1
LIST
check "sif dump One" "$G/TestApp_Dump/One.golden" "$A" sif dump 1 "$I/one-group.sif"
check "sif dump Two" "$G/TestApp_Dump/Two.golden" "$A" sif dump 2 "$I/one-group.sif"

# --json output parses and agrees with the text
n=$((n + 1))
if "$A" sif list --json "$I/two-groups-signed-pgp.sif" | python3 -c '
import json,sys
l=json.load(sys.stdin)
assert [d["id"] for d in l]==[1,2,3,4,5], l
assert l[3]["link"]=={"id":1,"group":True} and l[3]["entity"].upper()=="12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"
assert l[1]["parttype"]=="*System" and l[2]["arch"]=="amd64"
' && "$A" sif header --json "$I/one-group.sif" | python3 -c '
import json,sys
h=json.load(sys.stdin); assert h["descriptors_total"]==48 and h["primary_arch"]=="386", h'; then
  echo "ok $n - sif list/header --json"
else
  echo "not ok $n - sif list/header --json"; failed=$((failed + 1))
fi
echo "1..$n"
[ $failed -eq 0 ]
