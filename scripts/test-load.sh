#!/usr/bin/env bash
# Usage: scripts/test-load.sh [DURATION]
#
# The long version of the load tests that scripts/test.sh runs briefly:
# greeter-server under sustained load for DURATION (default 60s; goroutines
# must return to their baseline after it), shutdown under load, and the
# three-replica scale-out run on loopback; then the fleet test on network
# namespaces with a 60 s silent outage and three rolling restarts of every
# replica (scripts/test-fleet.sh, as root). It stops by itself after DURATION
# plus about three minutes.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=${1:-60s}

go -C "$root/greeter-server" test -count=1 -v -timeout 30m \
  -run 'TestSustainedLoad|TestShutdownUnderLoad|TestIdleConnections' ./test -load.duration="$duration" |
  grep -E '^(=== RUN|--- |PASS|FAIL|ok)|_test\.go:[0-9]+:'
go -C "$root/greeter-client" test -count=1 -v -timeout 10m -run 'TestScaleOut' ./test |
  grep -E '^(=== RUN|--- |PASS|FAIL|ok)|_test\.go:[0-9]+:'
"$root/scripts/test-fleet.sh" 60s 3
