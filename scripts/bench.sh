#!/usr/bin/env bash
# Usage: scripts/bench.sh [COUNT]
#
# Measures greeter-server's CPU time per call against a bare grpc-go server
# serving the same method, side by side in one run: BenchmarkUnary and
# BenchmarkStream in greeter-server/internal/serve, COUNT (default 6) rounds
# of 5000 calls to each server, summarised by benchstat (pinned in scripts/tools/go.mod). Each server runs in
# its own process with GOMAXPROCS=1, and every iteration calls both, so the
# rest of the machine loads them alike. Read the ours/bare table:
# server=ours (the default configuration) must stay within 1.10.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${1:-6}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
go -C "$root/greeter-server" test -run '^$' -bench . -benchtime 5000x -count "$count" ./internal/serve | tee "$out" >&2
go -C "$root/scripts/tools" tool benchstat "$out"
