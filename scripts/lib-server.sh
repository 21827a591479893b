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
# serve_greeter BIN [ADDR]: starts the greeter-server binary BIN with its
# gRPC listener on ADDR, a free loopback port by default. Its log goes to
# $tmp/server.log. From its start line it sets $addr, the gRPC listener's
# address. This is the one place a script reads that line.
# trim:http begin
#
# Both take HTTP_ADDR after ADDR: the address of the HTTP listener (Connect,
# gRPC-Web, the page, /healthz), a free loopback port by default (the
# server's own HTTP default, localhost:8080, would collide between scripts);
# an empty HTTP_ADDR turns the HTTP listener off. serve_greeter then sets
# $http_addr, the HTTP listener's address, and $page, the URL of the greeting
# page (both empty when the HTTP listener is off).
# trim:http end

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
  local bin=$1 listen=${2:-127.0.0.1:0} line named
  local args=(--addr "$listen" --log-format text --log-level info)
  # trim:http begin
  # ${3-...}, not ${3:-...}: an empty HTTP_ADDR given is the server's own
  # way to turn the HTTP listener off.
  local http_listen=${3-127.0.0.1:0}
  args+=(--http-addr "$http_listen")
  # trim:http end
  # The log exists before the server starts, so the loop below can read it
  # however late the background process opens it.
  : >"$tmp/server.log"
  "$bin" "${args[@]}" 2>>"$tmp/server.log" &
  server_pid=$!
  addr=''
  http_addr='' page='' # trim:http
  for _ in $(seq 100); do
    line=$(grep -m 1 'greeter-server listening' "$tmp/server.log" || true)
    if [[ -n $line ]]; then
      # The start line: ... addr=ADDR ... tls=...
      addr=$(log_field addr "$line")
      named=$addr
      # trim:http begin
      # ... http_addr=ADDR|off [page=URL] ...
      http_addr=$(log_field http_addr "$line")
      [[ $http_addr != off ]] || http_addr=''
      # shellcheck disable=SC2034 # read by the scripts that source this file
      page=$(log_field page "$line")
      [[ -n $http_addr || -z $http_listen ]] || named=''
      # trim:http end
      [[ -n $named ]] && return 0
      echo "greeter-server's start line does not name the addresses it listens on: $line" >&2
      return 1
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "greeter-server did not start listening on $listen within 10s:" >&2
  cat "$tmp/server.log" >&2
  return 1
}

# log_field KEY LINE: prints the value of KEY=VALUE in a log line in slog's
# text format (nothing if it has none); the space before KEY keeps a key
# from matching inside a longer one (addr= inside other_addr=).
log_field() {
  sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}
