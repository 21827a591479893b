#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [DURATION]
#
# Runs every fuzz target of greeter-server for DURATION each (default 30s):
# the greeting core's rules (FuzzHello, FuzzNewStream, FuzzGroup) and request
# decoding (FuzzDecodeRequest). `go test` alone, as scripts/test.sh runs it,
# replays the committed seed corpus in testdata/fuzz/ without fuzzing. A
# failing input is written to testdata/fuzz/; commit it with the fix.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=${1:-30s}
cd "$root/greeter-server"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in internal/greeting:FuzzHello internal/greeting:FuzzNewStream \
  internal/greeting:FuzzGroup internal/serve:FuzzDecodeRequest; do
  pkg=${target%%:*}
  name=${target##*:}
  echo "==> $name ($pkg) for $duration" >&2
  # On success only the last lines matter; on failure, all of them.
  if ! go test -run '^$' -fuzz "^$name\$" -fuzztime "$duration" "./$pkg" >"$log" 2>&1; then
    cat "$log"
    exit 1
  fi
  tail -n 3 "$log"
done
