#!/usr/bin/env bash
# Usage: scripts/run.sh [NAME]
#
# Builds greeter-server and greeter-client, starts the server on
# localhost:50051 (or $GREETER_ADDR), greets NAME (default: you) with
# `greeter-client hello --name NAME`, and stops the server again.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:-you}
addr=${GREETER_ADDR:-localhost:50051}

bin=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  rm -rf "$bin"
}
trap cleanup EXIT

echo "building greeter-server and greeter-client..." >&2
go -C "$root/greeter-server" build -o "$bin/greeter-server" ./cmd/greeter-server
go -C "$root/greeter-client" build -o "$bin/greeter-client" ./cmd/greeter-client

"$bin/greeter-server" --addr "$addr" --log-format text --log-level info 2>"$bin/server.log" &
server_pid=$!

# Wait until the server says where it is listening (or dies), then call it
# once. Reading the address from its log also supports GREETER_ADDR=host:0.
for _ in $(seq 100); do
  listening=$(sed -n 's/.*greeter-server listening.* addr=\([^ ]*\).*/\1/p' "$bin/server.log")
  if [[ -n $listening ]]; then
    status=0
    "$bin/greeter-client" --addr "$listening" hello --name "$name" || status=$?
    exit "$status"
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "greeter-server exited before it served:" >&2
    cat "$bin/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "greeter-server did not start listening on $addr within 10s:" >&2
cat "$bin/server.log" >&2
exit 1
