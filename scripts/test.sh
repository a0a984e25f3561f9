#!/usr/bin/env bash
# Runs every arca test: a normal build and an ASan+UBSan build run the whole
# suite, then each libFuzzer target runs for a bounded time on its seeds.
# Ends with "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

FUZZ_SECONDS=${ARCA_FUZZ_SECONDS:-20}
jobs=$(nproc)
logs=()
status=0

run_suite() { # name, meson setup args...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; status=1; return; }
  fi
  if ! ninja -C "$dir" -j"$jobs" >"$dir.ninja.log" 2>&1; then
    tail -50 "$dir.ninja.log"; status=1; return
  fi
  meson test -C "$dir" --num-processes "$jobs" --print-errorlogs --no-rebuild || status=1
  logs+=("$dir/meson-logs/testlog.json")
}

run_suite build
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

# Fuzzers: clang's libFuzzer, ASan+UBSan, seeded from fuzz/corpus/<target>
# and the fixtures; any crash fails the run. Warnings are errors in the gcc
# builds above; clang's extra warnings are not made fatal here.
fuzz_pass=0; fuzz_fail=0
if command -v clang >/dev/null; then
  if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debug -Dwerror=false >build-fuzz.setup.log 2>&1 || { cat build-fuzz.setup.log; status=1; }
  fi
  if ninja -C build-fuzz -j"$jobs" >build-fuzz.ninja.log 2>&1; then
    for f in build-fuzz/fuzz/fuzz_*; do
      [ -f "$f" ] && [ -x "$f" ] || continue
      name=${f##*/fuzz_}
      work=$(mktemp -d)
      seeds=()
      [ -d "fuzz/corpus/$name" ] && seeds+=("fuzz/corpus/$name")
      [ -f "fuzz/seeds/$name.sh" ] && bash "fuzz/seeds/$name.sh" "$work/seeds" && seeds+=("$work/seeds")
      # A single allocation is judged by the RSS limit, not malloc_limit
      # (which defaults to it): a bounded read of a large object is not a bug,
      # memory that actually grows past 4 GiB is.
      if "$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=1048576 -artifact_prefix="$work/" \
            "$work" "${seeds[@]}" >"$work/log" 2>&1; then
        echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" || tail -1 "$work/log"))"
        fuzz_pass=$((fuzz_pass + 1))
      else
        echo "fuzz $name: CRASH"; tail -40 "$work/log"; ls "$work"
        fuzz_fail=$((fuzz_fail + 1)); status=1
      fi
      rm -rf "$work"
    done
  else
    tail -50 build-fuzz.ninja.log; status=1; fuzz_fail=$((fuzz_fail + 1))
  fi
fi

python3 scripts/tap_count.py "${logs[@]}" --extra-pass "$fuzz_pass" --extra-fail "$fuzz_fail"
rc=$?
[ $status -eq 0 ] && [ $rc -eq 0 ]
