# shellcheck shell=bash
# Sourced by scripts that drive the real binaries (run.sh, test-peers.sh,
# test-client-e2e.sh, bench-client.sh, test-release.sh); not run on its own.
# Sourcing it makes $tmp, a fresh temporary directory, and a trap that stops
# the server and removes $tmp when the calling script exits. A script that
# needs more cleanup calls stop_greeter from its own trap.
#
# start_greeter [ADDR]: builds greeter-server and greeter-client into $tmp
# and runs the server with serve_greeter.
#
# serve_greeter BIN [ADDR]: starts the greeter-server binary BIN on ADDR
# (default: a free loopback port), its log in $tmp/server.log, and sets $addr
# to the address it listens on, read from its start line. This is the one
# place a script reads that line.

tmp=$(mktemp -d)
server_pid=
stop_greeter() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  # A module cache in $tmp (test-release.sh) is read-only.
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap stop_greeter EXIT

start_greeter() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  go -C "$root/greeter-server" build -o "$tmp/greeter-server" ./cmd/greeter-server
  go -C "$root/greeter-client" build -o "$tmp/greeter-client" ./cmd/greeter-client
  serve_greeter "$tmp/greeter-server" "$@"
}

serve_greeter() {
  local bin=$1 listen=${2:-127.0.0.1:0}
  # The log exists before the server starts, so the loop below can read it
  # however late the background process opens it.
  : >"$tmp/server.log"
  "$bin" --addr "$listen" --log-format text --log-level info 2>>"$tmp/server.log" &
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
