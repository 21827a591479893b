#!/usr/bin/env bash
# Usage: scripts/check-generated.sh
#
# Fails if the committed generated code is not exactly what
# `scripts/generate.sh` would write from proto/ now: greeter-api's *.pb.go
# (buf.gen.yaml).
# The same for the benchmarks' connect-go handler # trim:http
# (greeter-server/internal/benchconnect/buf.gen.yaml). # trim:http
# It catches a
# hand-edited file, a proto changed without regenerating, or a stale file left
# behind. It regenerates into a temporary directory and compares; the tree is
# not touched.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

scripts/buf generate --output "$tmp"
scripts/buf generate --template greeter-server/internal/benchconnect/buf.gen.yaml --output "$tmp" # trim:http

status=0
# compare DIR PATTERN: the files named PATTERN under DIR, committed and fresh.
compare() {
  local dir=$1 pattern=$2
  mkdir -p "$tmp/$dir"
  # Compare the sets of generated files, then their contents.
  (cd "$dir" && find . -name "$pattern" -type f | sort) > "$tmp/committed.txt"
  (cd "$tmp/$dir" && find . -name "$pattern" -type f | sort) > "$tmp/fresh.txt"
  if ! diff -u "$tmp/committed.txt" "$tmp/fresh.txt" > "$tmp/files.diff"; then
    echo "generated files in $dir differ from what buf generates (- committed, + expected):" >&2
    grep -E '^[-+]\./' "$tmp/files.diff" >&2
    status=1
  fi
  while read -r file; do
    if [[ -f $dir/$file ]] && ! diff -u "$dir/$file" "$tmp/$dir/$file" >&2; then
      echo "$dir/$file: differs from what buf generates" >&2
      status=1
    fi
  done < "$tmp/fresh.txt"
}
compare greeter-api '*.pb.go'
compare greeter-server/internal/benchconnect '*.connect.go' # trim:http
if ((status != 0)); then
  echo "generated code is out of date: run scripts/generate.sh and commit the result" >&2
fi
exit "$status"
