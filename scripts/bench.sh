#!/usr/bin/env bash
# Usage: scripts/bench.sh [COUNT]
#
# Measures greeter-server's CPU time per call side by side with a reference
# server serving the same method, in one run, COUNT (default 6) rounds of 5000
# calls to each server, summarised by benchstat (pinned in
# scripts/tools/go.mod). Each server runs in its own process with
# GOMAXPROCS=1, and every iteration calls both, so the rest of the machine
# loads them alike. The benchmarks live in greeter-server/internal/serve:
#
#   BenchmarkUnary, BenchmarkStream, BenchmarkBidi: the gRPC listener
#     against a bare grpc-go server (BenchmarkBidi: a chat of 10 messages each
#     way on one stream). Read the ours/bare table: server=ours (the default
#     configuration) must stay within 1.05.
# trim:tracing begin
#   BenchmarkTracing: ours with tracing on (1% sampled) against what a user
#     would otherwise run, a bare grpc-go server with otelgrpc's stats handler
#     at the same sampler (bare+otelgrpc). Read the ours/bare table: 1.05.
# trim:tracing end
# trim:http begin
#   BenchmarkHTTPListener: the HTTP listener against a plain connect-go
#     server, per protocol (gRPC, Connect JSON, Connect binary, gRPC-Web).
#     Read the ours/connect table: no protocol may go above 2.
# trim:http end
#   BenchmarkAuth: the gRPC listener with authentication on (an OIDC issuer
#     on loopback and a policy) against the same server with it off. Read
#     the auth/ours table: with a remembered token it must stay within
#     1.10; refused-no-token is what a refused call costs next to an
#     accepted one. BenchmarkCheck: one authentication decision in process,
#     for a remembered token and for the first call with a new one.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${1:-6}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
go -C "$root/greeter-server" test -run '^$' -bench . -benchtime 5000x -count "$count" ./internal/serve | tee "$out" >&2
go -C "$root/scripts/tools" tool benchstat "$out"
