#!/usr/bin/env bash
# Usage: scripts/test-fleet.sh [OUTAGE] [ROUNDS]
#
# The fleet test (greeter-client/test/fleet_test.go): three greeter-server
# replicas on three network hosts and a client host, each a Linux network
# namespace joined to a bridge, with one name that resolves to all three.
# `greeter-client bench` runs through that name while one replica is cut off
# silently for OUTAGE (default 6s; packets dropped by nftables, no reset) and
# comes back, one is killed and restarted, and every replica is replaced one
# after another ROUNDS times (default 1). No call may fail.
#
# Needs root. Installs iproute2 and nftables with apt-get when they are
# missing. Everything it makes lives in namespaces named greeterlab*; they are
# removed when the test ends, however it ends. Where the machine cannot do
# it, it says SKIPPED and why.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outage=${1:-6s}
rounds=${2:-1}

skip() {
  echo "test-fleet: SKIPPED: $*" >&2
  exit 0
}

if [[ $(id -u) != 0 ]]; then
  skip "the fleet test makes network namespaces and needs root; run it as root to test silent replicas, crashes and rolling restarts"
fi
if ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
  echo "installing iproute2 and nftables..." >&2
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 nftables >/dev/null ||
    skip "could not install iproute2 and nftables with apt-get"
fi

# Remove what a test process that has ended left behind: its namespaces,
# what runs in them, and their /etc/netns files. The test does this itself;
# this catches a test killed by go test's -timeout.
# shellcheck disable=SC2317 # run by the EXIT trap; shellcheck 0.9 misses that when the script ends in exit
cleanup() {
  local ns pid
  for ns in $(ip netns list | awk '$1 ~ /^greeterlab[0-9]+-/ { print $1 }'); do
    pid=${ns#greeterlab}
    pid=${pid%%-*}
    if ! kill -0 "$pid" 2>/dev/null; then
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
      ip netns delete "$ns" 2>/dev/null || true
      rm -rf "/etc/netns/$ns"
    fi
  done
}
trap cleanup EXIT

out=$(mktemp)
trap 'cleanup; rm -f "$out"' EXIT
status=0
go -C "$root/greeter-client" test -count=1 -v -timeout 15m -run '^TestFleet$' ./test \
  -fleet -fleet.outage="$outage" -fleet.rounds="$rounds" 2>&1 | tee "$out" || status=$?
if grep -q -- '--- SKIP: TestFleet' "$out"; then
  skip "$(grep -m1 -o 'SKIP: .*' "$out" | sed 's/^SKIP: //')"
fi
exit "$status"
