#!/bin/sh
# Prints the SONAME of lib$2.so from pkg-config module $1, so that a library
# arca opens with dlopen() is asked for by the ABI it was compiled against.
set -eu
dir=$(pkg-config --variable=libdir "$1")
name=$(readelf -d "$dir/lib$2.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
test -n "$name"
printf '%s\n' "$name"
