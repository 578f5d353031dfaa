#!/usr/bin/env bash
# Checks that every Markdown code fence opens and closes on a line of its own
# (GitHub renders the rest of a file as code after a fence like "``` text").
# With no arguments: README.md, docs/*.md and examples/*/README.md.
#
#   scripts/check_fences.sh [FILE.md ...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- README.md docs/*.md examples/*/README.md

status=0
for file in "$@"; do
  [ -r "$file" ] || { echo "$file: cannot read" >&2; status=1; continue; }
  awk -v file="$file" '
    function fail(msg) { printf "%s:%d: %s\n", file, NR, msg > "/dev/stderr"; bad = 1 }
    /^ *```/ {
      rest = $0
      sub(/^ *```/, "", rest)
      if (!open) {
        if (rest ~ /`/) fail("a fence that opens must hold only ``` and a language")
        else if (rest !~ /^[A-Za-z0-9_+.-]*[ \t]*$/) fail("text after an opening fence: \"" rest "\"")
        open = NR
      } else {
        if (rest !~ /^[ \t]*$/) fail("a closing fence must stand alone on its line, found \"```" rest "\"")
        open = 0
      }
      next
    }
    /```/ { fail("``` inside a line: a fence must open and close on a line of its own") }
    END {
      if (open) { printf "%s:%d: code fence opened here is never closed\n", file, open > "/dev/stderr"; bad = 1 }
      exit bad
    }' "$file" || status=1
done
[ "$status" -eq 0 ] && echo "check_fences: $# files, every code fence on a line of its own"
exit "$status"
