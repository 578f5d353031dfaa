#!/usr/bin/env bash
# Generates the HTML API reference from the /// comments of the public headers
# (include/torchclr/, not detail/) with Doxygen and docs/Doxyfile, into OUT_DIR
# (default build/api; open OUT_DIR/html/index.html). The guides (README.md,
# docs/*.md, the examples' READMEs) come along as pages.
#
# Fails, listing them, if a public item has no comment or Doxygen warns about
# the headers or the main page (a broken reference, an unknown command):
# Doxygen's warning log is parsed, so every problem is listed at once.
# Warnings in the guides are printed but do not fail: Doxygen 1.9.4 cannot
# resolve GitHub's heading anchors, and the guides are written for GitHub.
# Exits 77 (CTest's skip) if doxygen is not installed.
#
#   scripts/api_docs.sh [OUT_DIR [EXTRA_HEADER ...]]
#
# EXTRA_HEADERs are checked with the public ones (the test that shows the
# check finds an undocumented item uses one).
set -euo pipefail
out="${1:-build/api}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
extra=()
for header in "${@:2}"; do extra+=("$(cd "$(dirname "$header")" && pwd)/$(basename "$header")"); done
cd "$(dirname "$0")/.."
root="$(pwd)"

if ! command -v doxygen >/dev/null; then
  echo "api_docs: doxygen is not installed (scripts/install_deps.sh installs it); skipped" >&2
  exit 77
fi

version="$(sed -n 's/^project(torchclr VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
log="$out/doxygen-warnings.log"
rm -rf "$out/html" "$log"
{
  cat docs/Doxyfile
  echo "OUTPUT_DIRECTORY = \"$out\""
  echo "WARN_LOGFILE = \"$log\""
  echo "PROJECT_NUMBER = $version"
  for header in "${extra[@]}"; do echo "INPUT += \"$header\""; done
} | doxygen -

# One line per place (a template's instantiations repeat its members'
# warnings), paths relative to the repository.
problems="$(sed "s|^$root/||" "$log" | sort -t: -k1,1 -k2,2n -u)"
guides="$(grep -E '^[^:]*\.md:' <<<"$problems" | grep -v '^docs/api_mainpage\.md:' || true)"
api="$(grep -vxF -f <(printf '%s\n' "$guides") <<<"$problems" | grep . || true)"

if [ -n "$guides" ]; then
  echo "api_docs: notes on the guides (not part of the check):"
  echo "$guides"
fi
if [ -n "$api" ]; then
  echo "api_docs: $(wc -l <<<"$api") problem(s) in the API reference (a public item" \
    "needs a /// comment before it):" >&2
  echo "$api" >&2
  exit 1
fi
echo "api_docs: every public item is documented; $out/html/index.html"
