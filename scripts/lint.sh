#!/usr/bin/env bash
# Usage: scripts/lint.sh [MODULE_DIR ...]
#
# Runs golangci-lint, pinned in scripts/tools/lint/go.mod and built on first
# use, with the repository's .golangci.yml over every Go module (default:
# all of them), in the go.work workspace so greeter-server and greeter-client
# see this tree's greeter-api. Fails on any finding.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if (($# == 0)); then
  set -- greeter-api greeter-server greeter-server/deploy greeter-client scripts/tools
  set -- "$@" greeter-server/test/browser # trim:http
fi
# The lint module is a workspace of its own (GOWORK=off): see its go.mod.
lint=$(GOWORK=off go -C "$root/scripts/tools/lint" tool -n golangci-lint)

failed=0
for dir in "$@"; do
  echo "golangci-lint ${dir%/}" >&2
  (cd "$root/$dir" && "$lint" run --config "$root/.golangci.yml" ./...) || failed=1
done
exit $failed
