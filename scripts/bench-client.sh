#!/usr/bin/env bash
# Usage: scripts/bench-client.sh [CALLS] [CONCURRENCY] [RATE]
#
# Compares the CPU that `greeter-client bench` and ghz spend per call: builds
# greeter-server and greeter-client, installs the pinned ghz into a cached
# GOBIN, starts one server on a free loopback port, makes the same CALLS
# (default 20000) SayHello calls with CONCURRENCY workers (default 10) over
# one connection with each tool, one after the other, and prints each
# client's user+system CPU time per call. With RATE, both send RATE calls a
# second (bench --rate, ghz --rps), so each runs for CALLS/RATE seconds; at
# low rates most of that CPU is the Go runtime waking up for each call. Not
# run by scripts/test.sh: it takes about a minute the first time (building
# ghz), seconds after that.
set -euo pipefail

ghz_version=v0.120.0
calls=${1:-20000}
concurrency=${2:-10}
rate=${3:-}
our_rate=() ghz_rate=()
if [[ -n $rate ]]; then
  our_rate=(--rate "$rate")
  ghz_rate=(--rps "$rate")
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gobin=${XDG_CACHE_HOME:-$HOME/.cache}/greeter-bench/ghz-$ghz_version

if [[ ! -x $gobin/ghz ]]; then
  echo "installing ghz $ghz_version into $gobin..." >&2
  GOBIN=$gobin GOWORK=off GOFLAGS='' go install "github.com/bojand/ghz/cmd/ghz@$ghz_version"
fi
# shellcheck source=lib-server.sh
source "$root/scripts/lib-server.sh"
start_greeter

# cpu FILE CMD...: runs CMD with its output in FILE and prints the user and
# system CPU seconds it used, from bash's time.
cpu() {
  local file=$1 TIMEFORMAT='%U %S'
  shift
  { time "$@" >"$file" 2>&1; } 2>&1
}

echo "server $addr; $calls SayHello calls${rate:+ at $rate a second}, $concurrency workers, 1 connection each" >&2
read -r our_user our_sys < <(cpu "$tmp/ours.txt" "$tmp/greeter-client" --addr "$addr" bench \
  --total "$calls" --concurrency "$concurrency" --connections 1 --warmup 0 --name bench "${our_rate[@]}")
read -r ghz_user ghz_sys < <(cpu "$tmp/ghz.txt" "$gobin/ghz" --insecure \
  --proto "$root/proto/greeter/v1/greeter.proto" --import-paths "$root/proto" \
  --call greeter.v1.GreeterService.SayHello -d '{"name":"bench"}' \
  -n "$calls" -c "$concurrency" --connections 1 "${ghz_rate[@]}" "$addr")

grep -E 'Calls:|Throughput:|Rate:' "$tmp/ours.txt" | sed 's/^ */greeter-client bench: /'
grep -E 'Count:|Requests/sec:|\[OK\]' "$tmp/ghz.txt" | sed 's/^ */ghz: /'
awk -v n="$calls" -v ou="$our_user" -v os="$our_sys" -v gu="$ghz_user" -v gs="$ghz_sys" 'BEGIN {
  ours = (ou + os) / n * 1e6; ghz = (gu + gs) / n * 1e6
  printf "greeter-client bench: %.2fs user + %.2fs sys = %.1f us CPU per call\n", ou, os, ours
  printf "ghz %s:        %.2fs user + %.2fs sys = %.1f us CPU per call\n", "'"$ghz_version"'", gu, gs, ghz
  printf "ghz / greeter-client bench: %.2fx (greeter-client bench / ghz: %.2f)\n", ghz / ours, ours / ghz
}'
