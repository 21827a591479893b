#!/usr/bin/env bash
# Usage: scripts/vulncheck.sh [MODULE_DIR ...]
#
# Runs govulncheck, pinned in scripts/tools/go.mod, over every package of each
# module (default: greeter-api, greeter-server, greeter-client: the modules
# that are released). It reports known vulnerabilities in the dependencies and
# the Go standard library that the code actually calls, and fails if there
# are any.
#
# It needs the Go vulnerability database (https://vuln.go.dev, or the URL in
# GOVULNDB), so it is not part of the offline scripts/test.sh; CI runs it in a
# job of its own. When the database cannot be reached it fails: no answer is
# not a clean bill of health.
#
# Each module is checked with the versions it is released with, not the
# workspace's: the root go.work builds all three modules with one build list,
# where one module's newer requirement could hide another's vulnerable one.
# A throwaway go.work holds only the module, and maps the greeter-api version
# it requires to this tree (that version may not be published yet).
#
# scripts/tools is left out by default: it pins development tools that are
# never shipped. Name it to check it too: scripts/vulncheck.sh scripts/tools
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
api=github.com/greeter-go/greeter/greeter-api
if (($# == 0)); then
  set -- greeter-api greeter-server greeter-client
fi

govulncheck=$(go -C "$root/scripts/tools" tool -n govulncheck)
db=()
if [[ -n ${GOVULNDB:-} ]]; then db=(-db "$GOVULNDB"); fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()

for dir in "$@"; do
  dir=${dir%/}
  [[ -f $root/$dir/go.mod ]] || { echo "vulncheck: $dir has no go.mod" >&2; exit 2; }
  work=$tmp/${dir//\//_}.work
  goversion=$(go -C "$root/scripts/tools" tool gomod "$root/$dir/go.mod" go)
  printf 'go %s\n\nuse %s\n' "$goversion" "$root/$dir" > "$work"
  version=$(go -C "$root/scripts/tools" tool gomod "$root/$dir/go.mod" require "$api")
  if [[ -n $version ]]; then
    printf 'replace %s %s => %s\n' "$api" "$version" "$root/greeter-api" >> "$work"
  fi
  echo "==> govulncheck $dir" >&2
  status=0
  (cd "$root/$dir" && GOWORK=$work "$govulncheck" "${db[@]}" ./...) || status=$?
  case $status in
    0) ;;
    3) failed+=("$dir (vulnerable code is called; see above)") ;;
    *) failed+=("$dir (govulncheck could not finish, exit status $status; is the vulnerability database reachable?)") ;;
  esac
done

if ((${#failed[@]} > 0)); then
  echo "vulncheck: FAILED:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "vulncheck: no known vulnerabilities are called in: $*" >&2
