#!/usr/bin/env bash
# Usage: scripts/test-drift-check.sh
#
# Proves that scripts/check-generated.sh can fail: in a scratch copy of the
# repository it hand-edits a generated .pb.go, then changes a proto without
# regenerating, and expects the check to reject each one.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fresh_copy() {
  rm -rf "$tmp/repo"
  mkdir "$tmp/repo"
  local from=(buf.yaml buf.gen.yaml proto greeter-api scripts)
  from+=(greeter-server/internal/benchconnect) # trim:http
  (cd "$root" && tar -cf - "${from[@]}") | tar -xf - -C "$tmp/repo"
}

expect_rejected() {
  local what=$1
  if "$tmp/repo/scripts/check-generated.sh" >/dev/null 2>"$tmp/err"; then
    echo "check-generated.sh accepted $what" >&2
    exit 1
  fi
  echo "rejected as expected: $what"
}

fresh_copy
"$tmp/repo/scripts/check-generated.sh" >/dev/null

fresh_copy
echo '// edited by hand' >> "$tmp/repo/greeter-api/greeter/v1/greeter.pb.go"
expect_rejected "a hand-edited greeter.pb.go"

fresh_copy
sed -i 's/string message = 1;/string message = 1;\n  string note = 2;/' "$tmp/repo/proto/greeter/v1/greeter.proto"
expect_rejected "a proto change without regeneration"

fresh_copy
cp "$tmp/repo/greeter-api/greeter/v1/greeter.pb.go" "$tmp/repo/greeter-api/greeter/v1/stale.pb.go"
expect_rejected "a stale .pb.go with no proto behind it"

# trim:http begin
fresh_copy
echo '// edited by hand' >> "$tmp/repo/greeter-server/internal/benchconnect/greeter/v1/greeterv1connect/greeter.connect.go"
expect_rejected "a hand-edited benchmark greeter.connect.go"
# trim:http end
