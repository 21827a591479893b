#!/usr/bin/env bash
# Usage: scripts/check-generated.sh
#
# Fails if the committed generated code in greeter-api is not exactly what
# `scripts/generate.sh` would write from proto/ now: a hand-edited .pb.go, a
# proto changed without regenerating, or a stale .pb.go left behind. It
# regenerates into a temporary directory and compares; the tree is not touched.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

scripts/buf generate --output "$tmp"
mkdir -p "$tmp/greeter-api"
# Compare the sets of generated files, then their contents.
(cd greeter-api && find . -name '*.pb.go' -type f | sort) > "$tmp/committed.txt"
(cd "$tmp/greeter-api" && find . -name '*.pb.go' -type f | sort) > "$tmp/fresh.txt"
status=0
if ! diff -u "$tmp/committed.txt" "$tmp/fresh.txt" > "$tmp/files.diff"; then
  echo "generated files differ from what buf generates (- committed, + expected):" >&2
  grep -E '^[-+]\./' "$tmp/files.diff" >&2
  status=1
fi
while read -r file; do
  if [[ -f greeter-api/$file ]] && ! diff -u "greeter-api/$file" "$tmp/greeter-api/$file" >&2; then
    echo "$file: differs from what buf generates" >&2
    status=1
  fi
done < "$tmp/fresh.txt"
if ((status != 0)); then
  echo "generated code is out of date: run scripts/generate.sh and commit the result" >&2
fi
exit "$status"
