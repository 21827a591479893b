#!/usr/bin/env bash
# Usage: scripts/bench-report.sh [CALLS]
#
# Builds everything and prints one benchmark report, every comparison
# measured side by side in this one run, on loopback:
#   1. server CPU per call, ours (default interceptors) against a bare
#      grpc-go server, unary and streaming (the Go benchmarks of
#      greeter-server/internal/serve, both servers called in every iteration);
#   2. throughput and server CPU per call at several concurrency levels, with
#      greeter-client bench driving ours and the bare server alternately
#      (CALLS unary calls per run, default 20000);
#   3. greeter-client bench against ghz on the same server (client CPU per
#      call), via scripts/bench-client.sh;
#   4. greeter-server's memory at idle and per thousand idle connections.
# Takes a few minutes; not run by scripts/test.sh. This script runs the
# processes; scripts/tools/benchreport does the arithmetic of tables 1 and 2.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
calls=${1:-20000}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "building..." >&2
go -C "$root/greeter-client" build -o "$tmp/greeter-client" ./cmd/greeter-client
go -C "$root/greeter-server" test -c -o "$tmp/serve.test" ./internal/serve
benchreport=$(go -C "$root/scripts/tools" tool -n benchreport)

# start KIND: runs the bench server of that kind (see bench_test.go in
# greeter-server/internal/serve) with GOMAXPROCS=1, and sets addr_KIND and
# the file descriptors that ask it for its CPU time.
start() {
  local kind=$1 fdin fdout
  mkfifo "$tmp/$kind.in" "$tmp/$kind.out"
  GREETER_BENCH_SERVER=$kind GOMAXPROCS=1 "$tmp/serve.test" -test.run='^$' \
    <"$tmp/$kind.in" >"$tmp/$kind.out" 2>"$tmp/$kind.err" &
  pids+=($!)
  exec {fdin}>"$tmp/$kind.in"
  exec {fdout}<"$tmp/$kind.out"
  read -r "addr_$kind" <&"$fdout"
  printf -v "in_$kind" '%s' "$fdin"
  printf -v "out_$kind" '%s' "$fdout"
}

# cpu_ns KIND: the server's CPU time so far, in nanoseconds.
cpu_ns() {
  local in="in_$1" out="out_$1" ns
  echo cpu >&"${!in}"
  read -r ns <&"${!out}"
  echo "$ns"
}

# bench KIND CONCURRENCY: prints one line of benchreport levels' input: the
# server, the concurrency, the server's CPU nanoseconds during the run, and
# greeter-client bench's JSON report of it.
bench() {
  local kind=$1 c=$2 addr="addr_$1" before after json
  before=$(cpu_ns "$kind")
  json=$("$tmp/greeter-client" --addr "${!addr}" --output json bench \
    --total "$calls" --concurrency "$c" --connections 1 --warmup 200 --name bench)
  after=$(cpu_ns "$kind")
  printf '{"server": "%s", "concurrency": %d, "cpu_ns": %d, "result": %s}\n' \
    "$kind" "$c" $((after - before)) "$(tr -d '\n' <<<"$json")"
}

echo "==> 1. server CPU per call: ours against bare grpc-go (go test -bench, 5 rounds)" >&2
go -C "$root/greeter-server" test -run '^$' -bench . -benchtime 5000x -count 5 ./internal/serve >"$tmp/gobench.txt"

echo "==> 2. throughput by concurrency (greeter-client bench, $calls calls a run)" >&2
start bare
start ours
levels=(1 8 32)
for c in "${levels[@]}"; do
  # Alternate the servers, twice each, so drift in the machine falls on both.
  for _ in 1 2; do
    for kind in bare ours; do
      bench "$kind" "$c" >>"$tmp/levels.jsonl"
    done
  done
done

echo "==> 3. greeter-client bench against ghz" >&2
"$root/scripts/bench-client.sh" "$calls" 10 >"$tmp/clients.txt"

echo "==> 4. server memory at idle and with 1000 idle connections" >&2
go -C "$root/greeter-server" test -count=1 -v -run '^TestIdleConnections$' ./test -idle.conns=1000 >"$tmp/idle.txt"

echo
echo "Greeter benchmark report ($(date -u +%FT%TZ), $(nproc) cores, $(go version | cut -d' ' -f3))"
echo
echo "1. Server CPU per call, default interceptors vs bare grpc-go (servers at GOMAXPROCS=1; median of 5 rounds)"
"$benchreport" servers "$tmp/gobench.txt"
echo
echo "2. Unary SayHello through greeter-client bench, 1 connection (best of 2 alternating runs)"
"$benchreport" levels "$tmp/levels.jsonl"
echo "   (us/call: the server's own CPU time per call)"
echo
echo "3. Client CPU per call against the same greeter-server ($calls calls, 10 workers, 1 connection)"
sed 's/^/   /' "$tmp/clients.txt"
echo
echo "4. Server memory (greeter-server binary, no race detector)"
sed -n 's/.*traffic_test.go:[0-9]*: /   /p' "$tmp/idle.txt"
