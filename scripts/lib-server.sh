# shellcheck shell=bash
# Sourced by scripts that drive the real binaries (run.sh, test-peers.sh,
# test-client-e2e.sh, bench-client.sh); not run on its own.
#
# start_greeter [ADDR]: builds greeter-server and greeter-client into $tmp (a
# fresh temporary directory), starts the server on ADDR (default: a free
# loopback port), stops it and removes $tmp when the calling script exits,
# and sets $addr to the address the server listens on, read from its log
# line. A script that needs more cleanup calls stop_greeter from its own trap.

tmp=$(mktemp -d)
server_pid=
stop_greeter() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  rm -rf "$tmp"
}
trap stop_greeter EXIT

start_greeter() {
  local root listen=${1:-127.0.0.1:0}
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  go -C "$root/greeter-server" build -o "$tmp/greeter-server" ./cmd/greeter-server
  go -C "$root/greeter-client" build -o "$tmp/greeter-client" ./cmd/greeter-client
  "$tmp/greeter-server" --addr "$listen" --log-format text --log-level info 2>"$tmp/server.log" &
  server_pid=$!
  addr=
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*greeter-server listening.* addr=\([^ ]*\).*/\1/p' "$tmp/server.log")
    [[ -n $addr ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "greeter-server did not start listening on $listen within 10s:" >&2
  cat "$tmp/server.log" >&2
  return 1
}
