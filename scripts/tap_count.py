#!/usr/bin/env python3
"""Sums TAP cases over meson test logs and prints 'tests: N passed, N failed'.

A test program that failed without reporting a failing TAP case (a crash, a
timeout, a sanitizer abort) counts as one more failure.
"""
import json
import re
import sys

args = sys.argv[1:]
extra_pass = extra_fail = 0
files = []
i = 0
while i < len(args):
    if args[i] == "--extra-pass":
        extra_pass = int(args[i + 1]); i += 2
    elif args[i] == "--extra-fail":
        extra_fail = int(args[i + 1]); i += 2
    else:
        files.append(args[i]); i += 1

passed, failed = extra_pass, extra_fail
for path in files:
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok\b", out, re.M))
        bad = len(re.findall(r"^not ok\b", out, re.M))
        if t.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and bad == 0:
            bad = 1
            print(f"{path}: {t.get('name')}: {t.get('result')}", file=sys.stderr)
        passed += ok
        failed += bad
print(f"tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
